"""``attention-atlas export-run RUN``: a run as a shareable dataset, through the read API.

One row per example (text, tokens, offsets, gold label, prediction, probabilities, every
method's token scores, every agreement measure of every method pair, each method's
comprehensiveness and sufficiency) written as ``examples.parquet`` or as a folder
``datasets.load_from_disk`` reads, plus ``run.json`` (the run's provenance: checkpoint,
corpus, settings, library versions) and a dataset card ``README.md`` that says how the numbers
were made. ``--where`` takes the dashboard's filter grammar (a copied link works). It lives on
the ingest side because ``datasets`` is part of the ML stack the read side never imports.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from attention_atlas.db.api import RunReader, StoreError, open_store
from attention_atlas.db.cli_common import DB_OPTION, fail
from attention_atlas.models import vocabulary

FORMATS = ("parquet", "datasets")


def export_table(run: RunReader, where: str | None, step: Callable[[str], None]) -> pd.DataFrame:
    """The export's one row per example (see the module docstring); ``step`` is told each
    part as it is read."""
    step("examples")
    table = run.examples(where)
    table["probabilities"] = [p.astype(np.float32) for p in table["probabilities"]]
    step("tokens")
    tokens = run.tokens(where).set_index("example_id")
    table["tokens"] = tokens.loc[table["id"], "tokens"].tolist()
    table["offsets"] = [o.tolist() for o in tokens.loc[table["id"], "offsets"]]
    table["word_ids"] = [w.astype(np.int32) for w in tokens.loc[table["id"], "word_ids"]]
    for method in vocabulary.in_order(run.info.methods):
        step(f"{method} scores")
        scores = run.scores(method, where, as_arrays=True)
        table[f"scores_{method}"] = [scores.get(int(i)) for i in table["id"]]
    step("agreements")
    table = table.join(_wide_agreements(run.agreements(where)), on="id")
    step("faithfulness")
    return table.join(_wide_faithfulness(run.faithfulness(where)), on="id")


def _wide_agreements(frame: pd.DataFrame) -> pd.DataFrame:
    """example_id -> one column per pair and measure (``agreement_attention_ig_spearman``)."""
    pair = frame["method_a"].astype(str) + "_" + frame["method_b"].astype(str)
    frame = frame.assign(pair=pair)
    wide = frame.pivot(index="example_id", columns="pair", values=list(vocabulary.MEASURES))
    wide.columns = [f"agreement_{pair}_{measure}" for measure, pair in wide.columns]
    return wide[sorted(wide.columns)]


def _wide_faithfulness(frame: pd.DataFrame) -> pd.DataFrame:
    """example_id -> ``comprehensiveness_<method>`` and ``sufficiency_<method>`` columns."""
    values = ["comprehensiveness", "sufficiency"]
    wide = frame.pivot(index="example_id", columns="method", values=values)
    wide.columns = [f"{what}_{method}" for what, method in wide.columns]
    return wide


def dataset_card(provenance: dict[str, Any], table: pd.DataFrame, where: str | None) -> str:
    """The README.md beside the data: what a row holds and how its numbers were made."""
    methods = ", ".join(provenance["methods"])
    return f"""# Attention Atlas export: run `{provenance["name"]}`

{len(table)} examples of `{provenance["dataset"]}` (split `{provenance["split"]}`), classified by
`{provenance["checkpoint"]}` ({provenance["adapter"]}, {provenance["num_layers"]} layers x
{provenance["num_heads"]} heads), exported by `attention-atlas export-run`
{f"with the filter `{where}`" if where else "(every example of the run)"}.

## How the numbers were made
Each example was run through the model once; its prediction and class probabilities are the
model's. The token attributions of each method ({methods}) were computed by `attention-atlas
ingest` with the settings in `run.json` (`settings`; library versions in `versions`), one score
per token of the model's tokenizer. Agreement columns `agreement_<a>_<b>_<measure>` compare two
methods' scores of one example: Spearman and Kendall rank correlations on absolute scores (and
`_signed` on signed ones), Jaccard overlap of the top 5 tokens and of the top 10 % of tokens.
`comprehensiveness_<method>` is the drop in the predicted class's probability after removing the
method's top-ranked tokens, `sufficiency_<method>` the drop when only those tokens are kept
(DeYoung et al. 2020, averaged over the stored fractions).

## Columns
`id` (the store's example id), `source_index` (row of the source corpus), `text`, `tokens`,
`offsets` (character span of each token in `text`), `word_ids`, `label` / `label_name` (gold;
empty when the corpus has none), `prediction` / `prediction_name`, `probabilities` (one per
class: {", ".join(provenance["label_names"])}), `confidence`, `correct`, `length` (tokens),
`truncated`, `tags` (the reading group's note tags), `scores_<method>` (one float32 per token).
"""


def _write(table: pd.DataFrame, out: Path, fmt: str) -> None:
    table = table.assign(tags=[list(t) for t in table["tags"]])
    if fmt == "parquet":
        table.to_parquet(out / "examples.parquet", index=False)
        return
    import datasets  # the ML stack: imported only for this format

    datasets.Dataset.from_pandas(table, preserve_index=False).save_to_disk(str(out))


@click.command("export-run")
@click.argument("run_name", metavar="RUN")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="parquet", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--where", default=None, help="A dashboard filter: a copied link or ?key=value&...")
def export_run(run_name: str, db_url: str | None, fmt: str, out: Path, where: str | None) -> None:
    """Write run RUN (name or id) as a dataset: one row per example plus run.json and a card."""
    if out.exists() and any(out.iterdir()):
        fail(f"{out} is not empty: choose a new folder for the export")
    try:
        with open_store(db_url) as store:
            run = store.run(run_name)
            steps = 5 + len(run.info.methods)
            with click.progressbar(length=steps, label="export", file=sys.stderr) as bar:
                table = export_table(run, where, lambda _part: bar.update(1))
                out.mkdir(parents=True, exist_ok=True)
                _write(table, out, fmt)
                bar.update(1)
            provenance = run.provenance()
    except StoreError as exc:
        fail(str(exc))
    (out / "run.json").write_text(json.dumps(provenance, indent=2, default=str) + "\n")
    (out / "README.md").write_text(dataset_card(provenance, table, where))
    click.echo(f"{len(table)} examples of run {run.name!r} written to {out} ({fmt})")

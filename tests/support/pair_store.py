"""A three-class sentence-pair store for the dashboard tests: a tiny BERT NLI classifier
(entailment, neutral, contradiction) over premise / hypothesis pairs, ingested with the
default methods through the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from support.checkpoints import CORPUS_WORDS, NLI_LABELS, save_tiny_bert

N_PAIRS = 9


def nli_rows(n: int) -> list[dict[str, object]]:
    """``n`` premise / hypothesis pairs of the tiny vocabulary, labels as NLI names."""
    words = CORPUS_WORDS
    rows = []
    for i in range(n):
        premise = " ".join(words[(i * 5 + j * 3) % len(words)] for j in range(4 + i % 5))
        hypothesis = " ".join(words[(i * 7 + j * 11) % len(words)] for j in range(3 + i % 3))
        rows.append({"premise": premise, "hypothesis": hypothesis, "label": NLI_LABELS[i % 3]})
    return rows


def write_nli_csv(path: Path, n: int) -> Path:
    rows = nli_rows(n)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def pair_ingest_args(model: Path, corpus: Path, db_url: str, *extra: str) -> list[str]:
    """``ingest`` arguments for a pair run of ``model`` over ``corpus`` (small budgets)."""
    return [
        "ingest", "-q", "--model", str(model), "--dataset", str(corpus),
        "--text-field", "premise,hypothesis", "--label-field", "label",
        "--labels", ",".join(NLI_LABELS), "--db", db_url,
        "--ig-steps", "8", "--shap-evals", "64", "--batch-size", "3", *extra,
    ]  # fmt: skip


def build_pair_store(folder: Path, n: int = N_PAIRS) -> str:
    """The URL of a SQLite store in ``folder`` holding one three-class pair run."""
    from attention_atlas.ingest.cli import main

    model = save_tiny_bert(folder / "nli-bert", labels=NLI_LABELS)
    corpus = write_nli_csv(folder / "nli.csv", n)
    url = f"sqlite:///{folder / 'pairs.db'}"
    result = CliRunner().invoke(main, pair_ingest_args(model, corpus, url))
    assert result.exit_code == 0, result.output
    return url

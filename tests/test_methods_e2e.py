"""Methods end to end: ingest (CLI) -> DB -> SQL query -> every dashboard page, over the whole
registry for each checkpoint of the model matrix (a tiny BERT, a GPT-2 classifier, the GPT-2
zero-shot path, a Llama classifier and a Llama zero-shot LM); and on 200 SST-2 dev sentences
one SQL query returning the disagreement cases of a method pair and their head grids, checked
against numpy."""

from __future__ import annotations

import csv
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_csv
from scipy.stats import spearmanr
from sqlalchemy import select
from support.pages import assert_every_page_renders

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.models import (
    Agreement,
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
    Run,
    vocabulary,
)

# every method a one-stack model computes (the stack methods: tests/test_encoder_decoder.py)
ONE_STACK = vocabulary.one_stack_method_ids()


def ingest(*args: str) -> None:
    result = CliRunner().invoke(main, ["ingest", "-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


# the model matrix: kind -> the fixture of its tiny checkpoint (Llama: grouped-query attention,
# 4 query heads over 2 key-value heads, with the GPT-2 tokenizer files)
CHECKPOINTS = {
    "bert": "tiny_bert_dir",
    "gpt2": "tiny_gpt2_dir",
    "zero_shot": "tiny_gpt2_lm_dir",
    "llama": "tiny_llama_dir",
    "llama_zero_shot": "tiny_llama_lm_dir",
}


@pytest.mark.parametrize("kind", list(CHECKPOINTS))
def test_every_method_through_the_store(
    kind: str,
    request,
    caplog: pytest.LogCaptureFixture,
    tiny_corpus: Path,
    sqlite_url_factory: Callable[..., str],
) -> None:
    folder = request.getfixturevalue(CHECKPOINTS[kind])
    extra = (
        [
            "--zero-shot",
            "--prompt",
            "Review: {text}\nSentiment:",
            "--verbalizers",
            " negative, positive",
        ]
        if kind.endswith("zero_shot")
        else []
    )
    url = sqlite_url_factory()
    ingest(
        "--model",
        str(folder),
        "--dataset",
        str(tiny_corpus),
        "--label-field",
        "label",
        "--db",
        url,
        "--methods",
        ",".join(ONE_STACK),
        "--shap-evals",
        "64",
        "--lime-samples",
        "64",
        "--ig-steps",
        "16",
        "--batch-size",
        "4",
        *extra,
    )
    methods = list(ONE_STACK)
    with session_factory(make_engine(url))() as session:
        run = session.scalars(select(Run)).one()
        assert run.settings["ig_steps"] == 16 and run.settings["explain_output"] == "prob"
        assert run.settings["lime_samples"] == 64 and "ridge" in run.settings["lime_regression"]
        examples = session.scalars(select(Example).where(Example.run_id == run.id)).all()
        assert len(examples) == 12
        for example in examples:
            scores = dict(
                session.execute(
                    select(Attribution.method, Attribution.scores).where(
                        Attribution.example_id == example.id
                    )
                ).all()
            )
            assert sorted(scores) == sorted(methods)
            assert all(s.shape == (example.length,) for s in scores.values())
            pairs = session.execute(
                select(Agreement.method_a, Agreement.method_b).where(
                    Agreement.example_id == example.id
                )
            ).all()
            assert sorted(pairs) == sorted(combinations(methods, 2))
            refs = session.scalars(
                select(HeadScore.reference).where(HeadScore.example_id == example.id)
            ).all()
            assert sorted(refs) == sorted(vocabulary.reference_method_ids())
            faithful = session.scalars(
                select(Faithfulness.method).where(Faithfulness.example_id == example.id)
            ).all()
            assert sorted(faithful) == sorted([*methods, vocabulary.RANDOM.id])
        first = examples[0].id
    assert_every_page_renders(create_app(url), first, caplog)


def _sst2(shared_data: Path, tmp_path: Path, n: int) -> Path:
    source = shared_data / "sst2" / "dev.tsv"
    if not source.exists():
        pytest.skip(f"{source} not found")
    with source.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[:n]
    return write_csv(
        tmp_path / "sst2.csv", [{"text": r["text"], "label": r["label"]} for r in rows]
    )


def test_sst2_disagreement_query_and_head_grid(
    shared_data: Path, tmp_path: Path, tiny_bert_dir: Path, sqlite_url_factory
) -> None:
    corpus = _sst2(shared_data, tmp_path, 200)
    url = sqlite_url_factory()
    ingest(
        "--model",
        str(tiny_bert_dir),
        "--dataset",
        str(corpus),
        "--label-field",
        "label",
        "--db",
        url,
        "--methods",
        "attention,rollout,ig",
        "--ig-steps",
        "8",
        "--batch-size",
        "32",
    )
    threshold = 0.0
    query = (
        select(Example.id, HeadScore.grid)
        .join(Agreement, Agreement.example_id == Example.id)
        .join(HeadScore, (HeadScore.example_id == Example.id) & (HeadScore.reference == "ig"))
        .where(
            Agreement.method_a == "attention",
            Agreement.method_b == "ig",
            Agreement.spearman < threshold,
        )
        .order_by(Example.id)
    )
    with session_factory(make_engine(url))() as session:
        hits = session.execute(query).all()
        every = session.execute(
            select(Example.id, Example.special_mask, Attention.rows)
            .join(Attention, Attention.example_id == Example.id)
            .order_by(Example.id)
        ).all()
        scores = {
            (e, m): s
            for e, m, s in session.execute(
                select(Attribution.example_id, Attribution.method, Attribution.scores)
            )
        }
    assert len(every) == 200
    expected_ids, grids = [], []
    for example_id, special, rows in every:
        content = ~special
        att, ig = scores[(example_id, "attention")][content], scores[(example_id, "ig")][content]
        rho = spearmanr(np.abs(att), np.abs(ig))[0]
        if np.isfinite(rho) and rho < threshold:
            expected_ids.append(example_id)
            grid = np.array(
                [
                    [
                        spearmanr(rows[layer, head, content], np.abs(ig))[0]
                        for head in range(rows.shape[1])
                    ]
                    for layer in range(rows.shape[0])
                ]
            )
            grids.append(grid)
    assert [h.id for h in hits] == expected_ids and 0 < len(expected_ids) < 200
    averaged = np.nanmean(np.stack([h.grid for h in hits]), axis=0)
    # the stored grids come from the float32 rows at ingest; the rows read back are float16,
    # whose rounding can tie two close weights and move a rank
    np.testing.assert_allclose(averaged, np.nanmean(np.stack(grids), axis=0), atol=2e-2)

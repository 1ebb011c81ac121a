"""``attention-atlas explain --text``: one hand-typed text stored as an example whose numbers
are those of ingesting the same text as a one-line corpus; runs per checkpoint and settings;
bad input ends in one line and exit code 2."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import write_csv
from sqlalchemy import select
from test_cli_errors import assert_user_error

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.example_queries import example_attributions, example_detail
from attention_atlas.ingest.cli import main
from attention_atlas.models import Example, Run

SEED_TEXT = "This movie was absolutely fantastic!"
FAST = ("--ig-steps", "8", "--shap-evals", "64")  # equality does not depend on the budgets
URL = re.compile(r"^http://127\.0\.0\.1:8050/example/(\d+)\?run=(\d+)$", re.MULTILINE)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def explained(result: Result) -> tuple[int, int]:
    """(example id, run id) from explain's printed URL."""
    assert result.exit_code == 0, (result.output, result.exception)
    match = URL.search(result.output)
    assert match, result.output
    return int(match[1]), int(match[2])


def stored(db_url: str, example_id: int):
    with session_factory(make_engine(db_url))() as session:
        return example_detail(session, example_id), example_attributions(session, example_id)


def _models(request: pytest.FixtureRequest, kind: str) -> tuple[Path, tuple[str, ...]]:
    if kind == "zero-shot":
        return request.getfixturevalue("tiny_gpt2_lm_dir"), ("--zero-shot",)
    fixture = {"bert": "tiny_bert_dir", "gpt2": "tiny_gpt2_dir"}[kind]
    return request.getfixturevalue(fixture), ()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bert", "gpt2", "zero-shot"])
def test_explained_text_equals_a_one_line_corpus(
    kind: str, request: pytest.FixtureRequest, sqlite_url_factory: Callable[..., str]
) -> None:
    model, extra = _models(request, kind)
    db_url = sqlite_url_factory()
    budgets = () if extra else FAST  # zero-shot: the seed study's command as it is
    common = ("--model", str(model), "--db", db_url, *extra, *budgets)
    example_id, run_id = explained(invoke("explain", "--text", SEED_TEXT, *common))
    corpus = write_csv(model.parent / f"one-line-{kind}.csv", [{"text": SEED_TEXT}])
    ingest = invoke("ingest", "-q", "--dataset", str(corpus), "--run", "corpus", *common)
    assert ingest.exit_code == 0, ingest.output
    with session_factory(make_engine(db_url))() as session:
        runs = dict(session.execute(select(Run.name, Run.id)).all())
        corpus_example = session.scalars(
            select(Example.id).where(Example.run_id == runs["corpus"])
        ).one()
        name = {v: k for k, v in runs.items()}[run_id]
    assert name.startswith(f"{model.name}-hand-typed-{'zs-' if extra else ''}")
    ours, ours_scores = stored(db_url, example_id)
    theirs, their_scores = stored(db_url, corpus_example)
    assert ours.tokens == theirs.tokens and ours.text == SEED_TEXT
    np.testing.assert_array_equal(ours.probabilities, theirs.probabilities)
    assert (
        list(ours_scores)
        == list(their_scores)
        == [
            "attention",
            "rollout",
            "agrad",
            "grad_input",
            "ig",
            "shap",
        ]
    )
    for method, scores in ours_scores.items():
        np.testing.assert_array_equal(scores, their_scores[method], err_msg=method)


def test_each_new_text_takes_the_next_source_index_of_its_run(
    tiny_bert_dir: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    db_url = sqlite_url_factory()
    common = ("--model", str(tiny_bert_dir), "--db", db_url, "--methods", "attention")
    first, run_a = explained(invoke("explain", "--text", "a good movie", *common))
    second, run_b = explained(invoke("explain", "--text", "a bad film", *common))
    other, run_c = explained(invoke("explain", "--text", "dull", *common, "--seed", "3"))
    assert run_a == run_b != run_c  # another setting, another hand-typed run
    with session_factory(make_engine(db_url))() as session:
        rows = session.execute(select(Example.id, Example.source_index, Example.text)).all()
        run = session.get(Run, run_a)
        assert run.n_done == 2 and run.n_source == 2 and run.status == "complete"
        assert run.dataset == "hand-typed"
        assert run.name.startswith(f"{tiny_bert_dir.name}-hand-typed-")
    assert sorted(rows) == [
        (first, 0, "a good movie"),
        (second, 1, "a bad film"),
        (other, 0, "dull"),
    ]


def test_a_text_longer_than_the_limit_is_truncated_and_marked(
    tiny_bert_dir: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    db_url = sqlite_url_factory()
    text = " ".join(["good"] * 40)
    args = ("--model", str(tiny_bert_dir), "--db", db_url, "--methods", "attention")
    example_id, _ = explained(invoke("explain", "--text", text, *args, "--max-length", "10"))
    with session_factory(make_engine(db_url))() as session:
        row = session.get(Example, example_id)
        assert row.truncated and row.length == 10 and row.text == text


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_text_is_a_user_error(
    text: str, tiny_bert_dir: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    db_url = sqlite_url_factory()
    result = invoke("explain", "--text", text, "--model", str(tiny_bert_dir), "--db", db_url)
    assert_user_error(result, "--text is empty")
    with session_factory(make_engine(db_url))() as session:
        assert session.scalars(select(Run)).all() == []


def test_a_run_with_other_settings_is_refused(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    db_url = sqlite_url_factory()
    base = ("--model", str(tiny_bert_dir), "--db", db_url, "--methods", "attention")
    ingest = invoke("ingest", "-q", "--dataset", str(tiny_corpus), "--run", "reviews", *base)
    assert ingest.exit_code == 0, ingest.output
    result = invoke("explain", "--text", "good", "--run", "reviews", *base)
    assert_user_error(result, "run 'reviews' exists with different settings", "dataset")
    explained(invoke("explain", "--text", "good", "--run", "mine", *base))
    result = invoke("explain", "--text", "good", "--run", "mine", *base, "--ig-steps", "7")
    assert_user_error(result, "run 'mine' exists with different settings", "ig_steps")


def test_a_model_that_cannot_be_loaded_is_a_user_error(
    tmp_path: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    missing = str(tmp_path / "no-model")
    result = invoke("explain", "--text", "good", "--model", missing, "--db", sqlite_url_factory())
    assert_user_error(result, "cannot load checkpoint", missing)


def test_a_source_index_taken_meanwhile_moves_to_the_next_one(
    tiny_bert_dir: Path, sqlite_url_factory: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two explains of one run racing: the loser's index was stored by the winner after it
    picked it; it takes the next free index instead of failing."""
    from attention_atlas.db import writers

    db_url = sqlite_url_factory()
    common = ("--model", str(tiny_bert_dir), "--db", db_url, "--methods", "attention")
    explained(invoke("explain", "--text", "a good movie", *common))
    real = writers.next_source_index
    picks = [0]  # the first pick is the index the winner already stored

    def racing(session, run_name):
        return picks.pop() if picks else real(session, run_name)

    monkeypatch.setattr(writers, "next_source_index", racing)
    second, _ = explained(invoke("explain", "--text", "a bad film", *common))
    with session_factory(make_engine(db_url))() as session:
        rows = session.execute(select(Example.source_index, Example.text)).all()
    assert sorted(rows) == [(0, "a good movie"), (1, "a bad film")]

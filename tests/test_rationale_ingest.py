"""Ingest with human rationales through the CLI: masks and plausibility rows stored beside
faithfulness, a malformed rationale in row k ends in one line naming row k with nothing
stored, and a run without rationales stores none (and keeps its identity)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import corpus_rows, write_csv
from sqlalchemy import func, select

from attention_atlas.db.analysis.plausibility import plausibility
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.models import Attribution, Example, Plausibility, Rationale, Run
from attention_atlas.models.vocabulary import signed_method_ids

METHODS = "attention,grad_input"


def ingest(model: Path, corpus: Path, url: str, *extra: str) -> Result:
    args = ["ingest", "-q", "--model", str(model), "--dataset", str(corpus), "--db", url]
    return CliRunner().invoke(main, [*args, "--methods", METHODS, "--batch-size", "4", *extra])


def _count(url: str, model: type) -> int:
    with session_factory(make_engine(url))() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _rationale_corpus(tmp_path: Path, bad_row: int | None = None) -> Path:
    rows = corpus_rows(8)
    for i, row in enumerate(rows):
        words = str(row["text"]).split()
        row["rationale"] = json.dumps([1, len(words) - 1] if i % 3 else [])
    if bad_row is not None:
        rows[bad_row]["rationale"] = json.dumps([999])
    return write_csv(tmp_path / "rationales.csv", rows)


def test_rationales_and_plausibility_are_stored(
    tiny_bert_dir: Path, tmp_path: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory()
    corpus = _rationale_corpus(tmp_path)
    result = ingest(tiny_bert_dir, corpus, url, "--rationale-field", "rationale",
                    "--rationale-format", "words")  # fmt: skip
    assert result.exit_code == 0, result.output
    with session_factory(make_engine(url))() as session:
        run = session.scalars(select(Run)).one()
        assert run.settings["rationale_field"] == "rationale"
        assert run.settings["rationale_format"] == "words"
        rationales = session.scalars(select(Rationale)).all()
        assert len(rationales) == 5  # rows 1, 2, 4, 5, 7; the empty lists are no rationale
        for rationale in rationales:
            example = session.get(Example, rationale.example_id)
            assert rationale.marked == 2 and rationale.cut == 0
            marked = [t for t, m in zip(example.tokens, rationale.mask, strict=True) if m]
            words = example.text.split()
            assert marked == [words[1], words[-1]]  # the tiny vocabulary's words are tokens
            _check_rows(session, example, rationale.mask)


def _check_rows(session, example: Example, mask: np.ndarray) -> None:
    """The stored rows equal the metrics recomputed from the stored scores and mask."""
    rows = {
        p.method: p for p in session.scalars(select(Plausibility).filter_by(example_id=example.id))
    }
    assert set(rows) == {"attention", "grad_input", "random"}
    content = ~example.special_mask
    for attribution in session.scalars(select(Attribution).filter_by(example_id=example.id)):
        signed = attribution.method in signed_method_ids()
        expected = plausibility(mask[content], attribution.scores[content], signed)
        stored = rows[attribution.method]
        for measure, value in expected.items():
            assert getattr(stored, measure) == pytest.approx(value)
    assert 0.0 <= rows["random"].auprc <= 1.0


@pytest.mark.parametrize("bad_row", [0, 6])
def test_a_malformed_rationale_names_its_row_and_stores_nothing(
    bad_row: int, tiny_bert_dir: Path, tmp_path: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory()
    corpus = _rationale_corpus(tmp_path, bad_row)
    result = ingest(tiny_bert_dir, corpus, url, "--rationale-field", "rationale",
                    "--rationale-format", "words")  # fmt: skip
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    assert f"rationale in row {bad_row} (field 'rationale', format words)" in message
    assert "word index 999 out of range" in message
    assert _count(url, Run) == 0 and _count(url, Example) == 0


def test_a_missing_rationale_column_is_a_user_error(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    result = ingest(tiny_bert_dir, tiny_corpus, sqlite_url_factory(), "--rationale-field", "why")
    assert result.exit_code == 2 and "rationale field 'why' not in" in result.stderr


def test_a_run_without_rationales_stores_none(
    tiny_bert_dir: Path, tmp_path: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    url = sqlite_url_factory()
    result = ingest(tiny_bert_dir, _rationale_corpus(tmp_path), url)
    assert result.exit_code == 0, result.output
    assert _count(url, Rationale) == 0 and _count(url, Plausibility) == 0
    with session_factory(make_engine(url))() as session:
        settings = session.scalars(select(Run)).one().settings
    assert not any(key.startswith("rationale") for key in settings)


def test_toxic_spans_every_page_shows_plausibility(
    shared_data: Path, tiny_bert_dir: Path, sqlite_url_factory: Callable[..., str]
) -> None:
    """The SemEval Toxic Spans trial comments with a tiny BERT, once with their rationales and
    once without: every page of the first shows plausibility, no page of the second shows an
    (empty) plausibility panel."""
    from attention_atlas.dashboard import ids
    from attention_atlas.dashboard.server.app import create_app

    url, corpus = sqlite_url_factory(), shared_data / "toxic_spans" / "tsd_trial.csv"
    common = ("--limit", "16", "--max-length", "24", "--labels", "toxic,other")
    rich = ingest(tiny_bert_dir, corpus, url, *common, "--rationale-field", "spans", "--run", "r")
    plain = ingest(tiny_bert_dir, corpus, url, *common, "--run", "plain")
    assert rich.exit_code == 0 and plain.exit_code == 0, rich.output + plain.output
    with session_factory(make_engine(url))() as session:
        cut = session.scalars(select(Rationale).where(Rationale.cut > 0)).all()
        assert cut, "some marks lie past the 24th token"
        example = session.scalars(select(Rationale).where(Rationale.marked > 0)).first()
        assert example is not None
        plain_example = session.scalar(select(Example.id).join(Run).where(Run.name == "plain"))
    app = create_app(url)
    with app.server.test_request_context("/"):
        from attention_atlas.dashboard.pages import corpus as corpus_page
        from attention_atlas.dashboard.pages import example as example_page
        from attention_atlas.dashboard.pages import faithfulness

        pages = {
            "corpus": lambda run: corpus_page.layout(run=run),
            "faithfulness": lambda run: faithfulness.layout(run=run),
        }
        for name, render in pages.items():
            shown, hidden = str(render("1")), str(render("2"))
            marker = ids.FA_PLAUS if name == "faithfulness" else "'field': 'plaus'"
            assert marker in shown and marker not in hidden, name
        shown = str(example_page.layout(example_id=str(example.example_id)))
        assert 'data-method="rationale"' in shown and "AUPRC" in shown
        hidden = str(example_page.layout(example_id=str(plain_example)))
        assert "rationale" not in hidden and "AUPRC" not in hidden


def test_rationale_settings_leave_older_run_identities_alone() -> None:
    """Without --rationale-field the recorded settings are those of a build before it (so an
    existing run resumes under its old name); with it, both settings are recorded."""
    from attention_atlas.ingest.settings import IngestSettings

    before = IngestSettings(checkpoint="m", dataset="d")
    recorded = before.run_settings()
    assert "rationale_field" not in recorded and "rationale_format" not in recorded
    assert recorded["shap_evals"] is None  # other unset settings are still recorded
    with_field = IngestSettings(checkpoint="m", dataset="d", rationale_field="spans")
    assert with_field.settings_hash() != before.settings_hash()
    assert with_field.run_settings()["rationale_format"] == "chars"

"""The store, the migrations and ingest against a real PostgreSQL server (``make test``
starts a throwaway one and sets ATLAS_TEST_POSTGRES_URL; without it these tests skip)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import support.store_checks as store_checks
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.migrate import alembic_config
from attention_atlas.ingest.cli import main
from attention_atlas.models import Attention, Example, Run

pytestmark = pytest.mark.postgres


def test_upgrade_from_empty_matches_models(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert len(ScriptDirectory.from_config(alembic_config(engine)).get_heads()) == 1
    store_checks.check_migrated_from_empty(engine)


def test_array_round_trip(postgres_url: str) -> None:
    store_checks.check_array_round_trip(make_engine(postgres_url))


def test_float32_rows_of_older_stores_read_back(postgres_url: str) -> None:
    store_checks.check_float32_rows_stay_readable(make_engine(postgres_url))


def test_constraints(postgres_url: str) -> None:
    store_checks.check_constraints(make_engine(postgres_url))


def test_write_explanations(postgres_url: str) -> None:
    store_checks.check_write_explanations(make_engine(postgres_url))


def _ingest(model: Path, corpus: Path, url: str) -> str:
    result = CliRunner().invoke(main, ingest_args(model, corpus, url, "-q", "--run", "pg"))
    assert result.exit_code == 0, result.output
    return result.output


def _rows(url: str) -> tuple[Run, list]:
    with session_factory(make_engine(url))() as session:
        run = session.scalars(select(Run)).one()
        rows = session.execute(
            select(Example, Attention)
            .join(Attention, Attention.example_id == Example.id)
            .order_by(Example.source_index)
        ).all()
    return run, rows


def test_ingest_matches_sqlite(
    postgres_url: str,
    tiny_bert_dir: Path,
    tiny_corpus: Path,
    sqlite_url_factory: Callable[..., str],
) -> None:
    sqlite_url = sqlite_url_factory()
    _ingest(tiny_bert_dir, tiny_corpus, postgres_url)  # also migrates the empty database
    _ingest(tiny_bert_dir, tiny_corpus, sqlite_url)
    assert "0 new examples" in _ingest(tiny_bert_dir, tiny_corpus, postgres_url)  # resumable
    pg_run, pg_rows = _rows(postgres_url)
    lite_run, lite_rows = _rows(sqlite_url)
    assert (pg_run.status, pg_run.n_done, pg_run.n_skipped) == ("complete", 12, 1)
    assert pg_run.settings == lite_run.settings and pg_run.label_names == lite_run.label_names
    assert len(pg_rows) == len(lite_rows) == 12
    for (pg_ex, pg_att), (lite_ex, lite_att) in zip(pg_rows, lite_rows, strict=True):
        assert (pg_ex.source_index, pg_ex.tokens, pg_ex.label, pg_ex.correct) == (
            lite_ex.source_index,
            lite_ex.tokens,
            lite_ex.label,
            lite_ex.correct,
        )
        np.testing.assert_array_equal(pg_ex.offsets, lite_ex.offsets)
        np.testing.assert_array_equal(pg_ex.probabilities, lite_ex.probabilities)
        np.testing.assert_array_equal(pg_att.rows, lite_att.rows)
        if lite_att.full is None:
            assert pg_att.full is None
        else:
            np.testing.assert_array_equal(pg_att.full, lite_att.full)

"""The notes tables in the store (issue 14): migration 0003 upgrades stores written at 0002 and
at 0001 with every row intact (SQLite and PostgreSQL), and two threads writing notes while an
ingest subprocess writes the same SQLite store lose nothing and store nothing twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import corpus_rows, write_csv
from sqlalchemy import MetaData, func, insert, select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.migrate import current_revision, head_revision, upgrade
from attention_atlas.db.notes import NotesWriter, notes_of_example
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models import Example, Run
from attention_atlas.models.schema import Note


def _dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table but alembic_version, in primary-key order."""
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as connection:
        for table in meta.sorted_tables:
            if table.name != "alembic_version":
                order = list(table.primary_key.columns) or list(table.columns)
                out[table.name] = [
                    tuple(r) for r in connection.execute(table.select().order_by(*order))
                ]
    return out


def _copy_into_older(source, target) -> None:
    """Rows of a head store into a store at an older revision: the columns it has."""
    meta = MetaData()
    meta.reflect(target)
    rows = _dump(source)
    with target.begin() as connection:
        for table in meta.sorted_tables:
            if table.name == "alembic_version" or not rows.get(table.name):
                continue
            names = [c.name for c in table.columns]
            source_meta = MetaData()
            source_meta.reflect(source, only=[table.name])
            source_names = [c.name for c in source_meta.tables[table.name].columns]
            keep = [source_names.index(n) for n in names]
            values = [dict(zip(names, (r[i] for i in keep), strict=True)) for r in rows[table.name]]
            connection.execute(insert(table), values)


def _check_upgrade_keeps_data(url: str, source_url: str, revision: str) -> None:
    engine = make_engine(url)
    upgrade(engine, revision)
    assert current_revision(engine) == revision
    _copy_into_older(make_engine(source_url), engine)
    before = _dump(engine)
    assert sum(len(v) for v in before.values()) > 100
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    after = _dump(engine)
    for table, rows in before.items():
        width = len(rows[0]) if rows else 0
        # columns added by later revisions come last and are NULL for old rows
        assert [r[:width] for r in after[table]] == rows, table
    writer = NotesWriter(url)
    note = writer.add_note(1, "ann", "after the upgrade", "negation")
    writer.dispose()
    with session_factory(engine)() as session:
        assert notes_of_example(session, 1)[0].tags == ("negation",) and note.id
    engine.dispose()


@pytest.fixture(scope="module")
def head_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('head') / 'head.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fill_synthetic_store(engine, 12, 2, 2, 8, 20, 3, full_max_tokens=16)
    engine.dispose()
    return url


@pytest.mark.parametrize("revision", ["0006_rationales_and_plausibility", "0002", "0001"])
def test_upgrade_to_head_keeps_every_row_on_sqlite(
    tmp_path: Path, head_store: str, revision: str
) -> None:
    _check_upgrade_keeps_data(f"sqlite:///{tmp_path / 'old.db'}", head_store, revision)


@pytest.mark.postgres
@pytest.mark.parametrize("revision", ["0002", "0001"])
def test_upgrade_to_head_keeps_every_row_on_postgres(
    postgres_url: str, head_store: str, revision: str
) -> None:
    _check_upgrade_keeps_data(postgres_url, head_store, revision)


# -- concurrent writers --------------------------------------------------------------------
N_NOTES = 30  # per thread
N_EXAMPLES = 160  # ingested meanwhile, two per transaction
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def _cli() -> list[str]:
    script = shutil.which("attention-atlas", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "attention_atlas.ingest.cli"]


def _post_notes(url: str, who: str, example_id: int, errors: list) -> None:
    writer = NotesWriter(url)
    try:
        for i in range(N_NOTES):
            writer.add_note(example_id, who, f"{who} note {i}", f"t{i % 3}, {who}")
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(repr(exc))
    finally:
        writer.dispose()


@pytest.mark.slow
def test_two_note_writers_beside_a_running_ingest_lose_nothing(
    tmp_path: Path, tiny_bert_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fill_synthetic_store(engine, 4, 2, 2, 8, 12, 1, run_name="notes-target")
    corpus = write_csv(tmp_path / "corpus.csv", corpus_rows(N_EXAMPLES))
    command = [
        *_cli(),
        *ingest_args(tiny_bert_dir, corpus, url, "-q", "--run", "live", batch_size=2),
    ]
    ingest = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[str] = []
    try:
        with session_factory(engine)() as session:  # wait until ingest has begun writing
            for _ in range(600):
                if session.scalar(select(func.count()).select_from(Run)) > 1:
                    break
                threading.Event().wait(0.05)
                session.rollback()
        threads = [
            threading.Thread(target=_post_notes, args=(url, who, 1 + k, errors))
            for k, who in enumerate(("ann", "bob"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        with session_factory(engine)() as session:  # how far ingest was when the notes were in
            done_meanwhile = session.scalar(
                select(func.count()).select_from(Example).join(Run).where(Run.name == "live")
            )
        _, stderr = ingest.communicate(timeout=300)
    finally:
        if ingest.poll() is None:
            ingest.kill()
    assert errors == [] and ingest.returncode == 0, (errors, stderr.decode()[-2000:])
    assert done_meanwhile < N_EXAMPLES, "ingest ended before the notes: no concurrency tested"
    with session_factory(engine)() as session:
        bodies = session.scalars(select(Note.body)).all()
        live = session.scalar(select(Run).where(Run.name == "live"))
        stored = session.scalar(select(func.count()).where(Example.run_id == live.id))
    assert sorted(bodies) == sorted(f"{w} note {i}" for w in ("ann", "bob") for i in range(N_NOTES))
    assert stored == N_EXAMPLES
    engine.dispose()

"""Resume: a real ``attention-atlas ingest`` process killed with SIGKILL part-way, then the same
command again, stores every example exactly once, with the values of an uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import corpus_rows, write_csv
from support.cli import ingest_args

from attention_atlas.ingest.cli import main

N_EXAMPLES = 600
KILL_AFTER = 8  # stored examples


def _cli() -> list[str]:
    script = shutil.which("attention-atlas", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "attention_atlas.ingest.cli"]


def _args(model: Path, corpus: Path, db: Path) -> list[str]:
    return ingest_args(model, corpus, f"sqlite:///{db}", batch_size=2)


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM examples").fetchone()[0]
    except sqlite3.Error:  # not created or not migrated yet
        return 0


# one thread: tiny matrices on a shared two-core machine are far slower with two
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def _kill_part_way(command: list[str], db: Path) -> int:
    process = subprocess.Popen(
        command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if _count(db) >= KILL_AFTER:
                break
            time.sleep(0.02)
        assert process.poll() is None, "ingest finished or died before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return _count(db)


def _snapshot(db: Path) -> dict[int, tuple]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT e.source_index, e.text, e.tokens, e.offsets, e.special_mask, e.label, "
            'e.prediction, e.probabilities, e.length, a.rows, a."full" '
            "FROM examples e JOIN attention a ON a.example_id = e.id"
        ).fetchall()
    snapshot = {row[0]: row[1:] for row in rows}
    assert len(snapshot) == len(rows), "a source index is stored twice"
    return snapshot


@pytest.mark.slow
def test_killed_ingest_resumes_without_duplicates_or_losses(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    corpus = write_csv(tmp_path / "corpus.csv", corpus_rows(N_EXAMPLES))
    killed_db, clean_db = tmp_path / "killed.db", tmp_path / "clean.db"

    stored_when_killed = _kill_part_way(_cli() + _args(tiny_bert_dir, corpus, killed_db), killed_db)
    assert KILL_AFTER <= stored_when_killed < N_EXAMPLES

    resumed = subprocess.run(
        _cli() + _args(tiny_bert_dir, corpus, killed_db) + ["-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{N_EXAMPLES - stored_when_killed} new examples" in resumed.stdout

    clean = CliRunner().invoke(main, _args(tiny_bert_dir, corpus, clean_db) + ["-q"])
    assert clean.exit_code == 0, clean.output

    after, reference = _snapshot(killed_db), _snapshot(clean_db)
    assert sorted(after) == list(range(N_EXAMPLES))
    assert sorted(reference) == list(range(N_EXAMPLES))
    different = [i for i in range(N_EXAMPLES) if after[i] != reference[i]]
    assert not different, f"{len(different)} examples differ, e.g. source index {different[0]}"
    with sqlite3.connect(killed_db) as connection:
        status, n_done = connection.execute("SELECT status, n_done FROM runs").fetchone()
        attention_rows = connection.execute("SELECT count(*) FROM attention").fetchone()[0]
    assert (status, n_done, attention_rows) == ("complete", N_EXAMPLES, N_EXAMPLES)


def test_rerunning_a_complete_run_adds_nothing(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    db = tmp_path / "again.db"
    args = _args(tiny_bert_dir, tiny_corpus, db) + ["-q"]
    first = CliRunner().invoke(main, args)
    second = CliRunner().invoke(main, args)
    assert first.exit_code == second.exit_code == 0
    assert "12 new examples" in first.output and "0 new examples" in second.output
    assert len(_snapshot(db)) == 12


def test_examples_another_process_stored_meanwhile_are_kept_once(
    tiny_bert_dir: Path, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ingests of one run at once: the second read "nothing done" before the first stored
    its examples. Its writer keeps the stored ones (same run, same numbers), adds nothing twice
    and ends without an error."""
    from attention_atlas.db import writers

    db = tmp_path / "race.db"
    args = _args(tiny_bert_dir, tiny_corpus, db) + ["-q"]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = _snapshot(db)
    real = writers.stored_source_indexes
    blind = [set()]  # the resume check reads before the other process's commit

    def racing(session, run_id):
        return blind.pop() if blind else real(session, run_id)

    monkeypatch.setattr(writers, "stored_source_indexes", racing)
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "0 new examples" in second.output
    assert _snapshot(db) == before
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT n_done FROM runs").fetchone()[0] == len(before)

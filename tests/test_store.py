"""The store on SQLite: array column type, migrations, pragmas and constraints.
The same checks run against PostgreSQL in test_postgres.py."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
import support.store_checks as store_checks
from alembic.script import ScriptDirectory
from sqlalchemy import text

from attention_atlas.db.engine import DatabaseUrlError, make_engine, resolve_url
from attention_atlas.db.migrate import alembic_config
from attention_atlas.models import decode_array, encode_array
from attention_atlas.models.arrays import decode_stacked


@pytest.mark.parametrize("name", sorted(store_checks.ARRAYS))
@pytest.mark.parametrize("compress", [False, True])
def test_encode_decode_keeps_dtype_shape_values(name: str, compress: bool) -> None:
    array = store_checks.ARRAYS[name]
    back = decode_array(encode_array(array, compress=compress))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize(
    "array",
    [
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.array(["ab", "c"]),
        np.arange(6, dtype=">i4"),
        np.zeros((2, 0, 3), dtype=np.float16),
    ],
)
def test_decode_fast_path_equals_np_load(array: np.ndarray) -> None:
    """decode_array reads cached .npy headers itself; the array is np.load's, and writable."""
    back = decode_array(encode_array(array))
    assert back.dtype == array.dtype and back.shape == array.shape and back.flags.writeable
    np.testing.assert_array_equal(back, array)


def test_decode_reads_npy_version_2_headers() -> None:
    buffer = io.BytesIO()
    array = np.arange(5, dtype=np.float32)
    np.lib.format.write_array(buffer, array, version=(2, 0))
    np.testing.assert_array_equal(decode_array(b"N" + buffer.getvalue()), array)


@pytest.mark.parametrize("compress", [False, True])
def test_decode_stacked_equals_stacking_decoded_arrays(compress: bool) -> None:
    arrays = [np.random.default_rng(i).random((2, 3), dtype=np.float32) for i in range(5)]
    stacked = decode_stacked([encode_array(a, compress=compress) for a in arrays])
    assert stacked.dtype == np.float32 and stacked.flags.writeable
    np.testing.assert_array_equal(stacked, np.stack(arrays))
    fortran = [np.asfortranarray(a) for a in arrays]
    np.testing.assert_array_equal(decode_stacked([encode_array(a) for a in fortran]), arrays)
    with pytest.raises(ValueError):  # one shape only
        decode_stacked([encode_array(np.zeros(2)), encode_array(np.zeros(3))])


def test_decode_rejects_foreign_bytes() -> None:
    with pytest.raises(ValueError, match="not an Attention Atlas array"):
        decode_array(b"X123")


def test_migrations_have_one_head(sqlite_url_factory: Callable[..., str]) -> None:
    engine = make_engine(sqlite_url_factory(migrated=False))
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_from_empty_matches_models(sqlite_url_factory: Callable[..., str]) -> None:
    store_checks.check_migrated_from_empty(make_engine(sqlite_url_factory(migrated=False)))


def test_array_round_trip_through_sqlite(sqlite_url_factory: Callable[..., str]) -> None:
    store_checks.check_array_round_trip(make_engine(sqlite_url_factory()))


def test_float32_rows_of_older_stores_read_back(sqlite_url_factory: Callable[..., str]) -> None:
    store_checks.check_float32_rows_stay_readable(make_engine(sqlite_url_factory()))


def test_constraints_on_sqlite(sqlite_url_factory: Callable[..., str]) -> None:
    store_checks.check_constraints(make_engine(sqlite_url_factory()))


def test_sqlite_uses_wal_and_foreign_keys(sqlite_url_factory: Callable[..., str]) -> None:
    engine = make_engine(sqlite_url_factory())
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_readonly_engine_reads_but_cannot_write(sqlite_url_factory: Callable[..., str]) -> None:
    url = sqlite_url_factory()
    make_engine(url).dispose()
    engine = make_engine(url, readonly=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM runs")).scalar() == 0
        with pytest.raises(Exception, match="readonly"):
            connection.execute(text("DELETE FROM runs"))


READERS = """
import sys, threading, time
from sqlalchemy import text
from attention_atlas.db.engine import make_engine
engine = make_engine(sys.argv[1], readonly=True)
errors = []
def read():
    try:
        for _ in range(5):
            with engine.connect() as connection:
                connection.execute(text("SELECT count(*) FROM runs")).scalar()
                time.sleep(0.02)  # hold the connection while other threads take theirs
                connection.execute(text("SELECT count(*) FROM examples")).scalar()
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=read) for _ in range(24)]
for t in threads: t.start()
for t in threads: t.join()
print(len(errors), errors[:1])
"""


def test_readonly_engine_serves_many_threads_at_once(
    sqlite_url_factory: Callable[..., str],
) -> None:
    """A threaded server reads with more threads than a pool keeps: each must keep its own
    connection (a singleton-per-thread pool closed others' connections: errors, a segfault).
    In a subprocess, so a crash is a failure and not the end of the test run."""
    url = sqlite_url_factory()
    make_engine(url).dispose()
    result = subprocess.run(
        [sys.executable, "-c", READERS, url], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0 []"


def test_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    assert resolve_url(None) == "sqlite:///atlas.db"
    assert resolve_url("runs/x.db") == "sqlite:///runs/x.db"
    monkeypatch.setenv("ATLAS_DATABASE_URL", "postgresql+psycopg://h/db")
    assert resolve_url(None) == "postgresql+psycopg://h/db"
    assert resolve_url("sqlite:///a.db") == "sqlite:///a.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:////nonexistent-folder/x.db", "does not exist"),
        ("nosuchdriver://host/db", "no driver"),
        ("postgresql+psycopg://u@127.0.0.1:1/db", "cannot open database"),
    ],
)
def test_bad_urls_raise_database_url_error(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError, match=message):
        make_engine(url)


def test_write_explanations_on_sqlite(sqlite_url_factory: Callable[..., str]) -> None:
    store_checks.check_write_explanations(make_engine(sqlite_url_factory()))

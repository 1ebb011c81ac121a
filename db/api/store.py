"""The read API's entry point: a store opened read-only on a URL, its runs as a DataFrame, one
run by name or id.

Everything a user gets wrong (a URL that does not open, a database that is not an Atlas store
or is at another schema revision, a run that does not exist) is one :class:`StoreError` with a
one-line message; a database error while reading is one too (``reader.py``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Self

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from attention_atlas.db import queries
from attention_atlas.db.api.reader import Reader, StoreError
from attention_atlas.db.api.run import RunReader
from attention_atlas.db.engine import DatabaseUrlError, make_engine, shown_url
from attention_atlas.db.migrate import SchemaError, require_head
from attention_atlas.models.schema import Run as RunRow


class Store:
    """An Atlas store opened read-only (see :func:`open_store`)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.url = url
        self._reader = Reader(engine, url)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections (the store reconnects if used again)."""
        self._reader.engine.dispose()

    def runs(self) -> pd.DataFrame:
        """One row per run, oldest first: id, name, checkpoint, dataset, split, adapter, status,
        n_source, n_done, n_skipped, seconds, methods, updated_at, shards."""
        rows = [asdict(r) for r in self._reader.read(queries.list_runs)]
        columns = list(queries.RunSummary.__dataclass_fields__)
        return pd.DataFrame(rows, columns=columns)

    def run(self, which: str | int) -> RunReader:
        """The run named ``which``, or with id ``which`` (an int, or digits no run is named)."""
        run_id = self._reader.read(_run_id, which)
        if run_id is None:
            names = ", ".join(repr(n) for n in self._reader.read(_names)) or "none"
            raise StoreError(f"no run {which!r} in {self.url} (its runs: {names})")
        info = self._reader.read(queries.get_run, run_id)
        assert info is not None  # the id was just read
        return RunReader(self._reader, info)


def _run_id(session: Session, which: str | int) -> int | None:
    if isinstance(which, str):
        found = session.scalar(select(RunRow.id).where(RunRow.name == which))
        if found is not None or not which.strip().isdigit():
            return found
        which = int(which)
    if isinstance(which, bool) or not isinstance(which, int):
        raise StoreError(f"a run is named by a string or an id, not {which!r}")
    return session.scalar(select(RunRow.id).where(RunRow.id == which))


def _names(session: Session) -> list[str]:
    return list(session.scalars(select(RunRow.name).order_by(RunRow.id)))


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (a database URL or a SQLite file path; default: ``--db``'s), opened
    read-only and checked to be an Atlas store at the newest schema revision."""
    where = shown_url(url)
    try:
        engine = make_engine(url, readonly=True)
    except DatabaseUrlError as exc:
        raise StoreError(str(exc)) from None
    try:
        require_head(engine, where)
    except SchemaError as exc:
        engine.dispose()
        raise StoreError(str(exc).splitlines()[0]) from None
    return Store(engine, where)

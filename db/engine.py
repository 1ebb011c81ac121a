"""Engines and sessions from a database URL, the same way for ingest, dashboard and tests.

SQLite gets WAL (the dashboard reads while ingest writes) and foreign keys; a read-only engine
opens SQLite with ``mode=ro`` and PostgreSQL with read-only transactions.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

DEFAULT_URL = "sqlite:///atlas.db"
URL_ENV = "ATLAS_DATABASE_URL"
READ_POOL_SIZE = 8  # read-only SQLite connections kept open (one per busy server thread)
READ_POOL_OVERFLOW = 56  # more threads get a connection too, closed when returned


class DatabaseUrlError(ValueError):
    """A database URL that cannot be parsed, has no driver, or cannot be opened."""


def resolve_url(url: str | None) -> str:
    """``--db`` wins, then ``ATLAS_DATABASE_URL``, then ``sqlite:///atlas.db`` in the cwd.
    A bare path (``runs/atlas.db``) is taken as a SQLite file."""
    url = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def shown_url(url: str | None) -> str:
    """The resolved URL for messages, password hidden (as given when it cannot be parsed)."""
    url = resolve_url(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, *, readonly: bool = False) -> Engine:
    """An engine for ``url`` (see :func:`resolve_url`); raises :class:`DatabaseUrlError` with a
    one-line reason when the URL is malformed, its driver is missing or it cannot be opened."""
    url = resolve_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"cannot parse database URL {url!r}") from exc
    try:
        engine = _create(parsed, readonly)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = " (pip install 'attention-atlas[postgres]')" if "postgres" in url else ""
        raise DatabaseUrlError(f"no driver for database URL {url!r}: {exc}{hint}") from exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver's connect error is a user-facing URL problem
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseUrlError(f"cannot open database {parsed!r}: {reason}") from exc
    return engine


def _create(parsed: URL, readonly: bool) -> Engine:
    if parsed.get_backend_name() != "sqlite":
        args = {"options": "-c default_transaction_read_only=on"} if readonly else {}
        return create_engine(parsed, connect_args=args, pool_pre_ping=True)
    database = parsed.database
    if database and database != ":memory:":
        path = Path(database)
        if readonly and not path.exists():
            raise DatabaseUrlError(f"database file {database} does not exist")
        if not readonly and not path.parent.exists():
            raise DatabaseUrlError(f"folder {path.parent} for database file does not exist")
    if readonly and database and database != ":memory:":
        uri = f"file:{Path(database).resolve()}?mode=ro"
        # "sqlite://" alone would get SingletonThreadPool (meant for :memory:), which closes
        # connections other threads still use once more than 5 threads read: errors or a
        # segfault under a threaded server. A queue pool hands each thread its own connection.
        engine = create_engine(
            "sqlite://",
            creator=lambda: _sqlite_ro(uri),
            poolclass=QueuePool,
            pool_size=READ_POOL_SIZE,
            max_overflow=READ_POOL_OVERFLOW,
        )
    else:
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _wal)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_ro(uri: str) -> sqlite3.Connection:
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _wal(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The one way sessions are made: objects stay usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)

"""What every ``attention-atlas`` command shares: one-line user errors (exit code 2), the
``--db`` option and a checked engine on it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:  # the engine module (and SQLAlchemy) loads when a command opens a store
    from sqlalchemy import Engine

USER_ERROR = 2
INTERRUPTED = 130


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(USER_ERROR)


def store_errors() -> tuple[type[BaseException], ...]:
    """Exception types of the store that mean "the user asked for something impossible" (the
    ingest commands add their own: :func:`~attention_atlas.ingest.cli.common.user_errors`)."""
    from attention_atlas.db.engine import DatabaseUrlError
    from attention_atlas.db.migrate import SchemaError
    from attention_atlas.db.writers import RunConflictError

    return (DatabaseUrlError, SchemaError, RunConflictError)


DB_OPTION = click.option(
    "--db",
    "db_url",
    envvar="ATLAS_DATABASE_URL",
    show_envvar=True,
    help="Database URL or SQLite file path. Default: atlas.db in the working directory.",
)


def open_engine(db_url: str | None, *, migrate: bool = False) -> Engine:
    """An engine on ``db_url`` at the newest schema: migrated there when ``migrate``; otherwise
    opened read-only and checked (a database that is missing, unreadable, not an Atlas database
    or at another revision ends the command with one line)."""
    from attention_atlas.db.engine import DatabaseUrlError, make_engine, shown_url
    from attention_atlas.db.migrate import SchemaError, require_head, upgrade

    try:
        engine = make_engine(db_url, readonly=not migrate)
        if migrate:
            upgrade(engine)
        else:
            require_head(engine, shown_url(db_url))
    except (DatabaseUrlError, SchemaError) as exc:
        fail(str(exc))
    return engine


PORT = click.IntRange(0, 65535)  # 0: any free port

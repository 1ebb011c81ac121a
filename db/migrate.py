"""Run the Alembic migrations programmatically (``attention-atlas db upgrade`` and ingest), and
check that a database holds a schema this version can read.

The migration scripts are the top-level ``alembic/`` folder of the checkout, shipped as package
data of ``attention_atlas`` (``attention_atlas/alembic/`` in a wheel) and found with
:mod:`importlib.resources`,
so a wheel install finds them as an editable one does. ``alembic.ini`` beside ``alembic/`` points
the plain ``alembic`` command (``revision --autogenerate``) at the same folder.
"""

from __future__ import annotations

import atexit
import functools
import time
from contextlib import ExitStack
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

# alembic/ ships as package data of attention_atlas (a data folder, not a package: with the
# checkout on sys.path a package named alembic would shadow the Alembic library).
MIGRATIONS = ("attention_atlas", "alembic")
UPGRADE_HINT = "run `attention-atlas db upgrade`"

_extracted = ExitStack()  # resources as_file had to copy out stay until the interpreter exits
atexit.register(_extracted.close)


class SchemaError(Exception):
    """A database whose schema this version cannot use: unreadable, not an Attention Atlas
    database, missing, or at a revision other than this version's head."""


def _scripts() -> Traversable:
    package, folder = MIGRATIONS
    return files(package) / folder


@functools.cache
def script_location() -> Path:
    """The folder holding ``env.py`` and ``versions/`` as a real path: Alembic reads files.

    ``as_file`` of a folder needs Python 3.12, so it is asked for ``env.py``, whose folder it
    is; an install that is not a plain folder (a zip) is reported, not run with no revisions.
    """
    env = _extracted.enter_context(as_file(_scripts() / "env.py"))
    folder = Path(env).parent
    if not (folder / "versions").is_dir():
        raise SchemaError("migration scripts not found: attention_atlas/alembic is not a folder")
    return folder


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str:
    return _head(ScriptDirectory.from_config(alembic_config(engine)))


def _head(script: ScriptDirectory) -> str:
    head = script.get_current_head()
    if head is None:  # the migrations ship inside the package: only a broken install lacks them
        raise SchemaError(f"no migrations in {script.dir}: reinstall attention-atlas")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _where(engine: Engine, where: str | None) -> str:
    return where or engine.url.render_as_string(hide_password=True)


def _state(engine: Engine, where: str) -> tuple[tuple[str, ...], list[str]]:
    """(revisions in alembic_version, other tables); SchemaError when they cannot be read."""
    try:
        with engine.connect() as connection:
            return _read_state(connection)
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise SchemaError(f"cannot read the schema of database {where}: {reason}") from exc


def _read_state(connection: Connection) -> tuple[tuple[str, ...], list[str]]:
    heads = MigrationContext.configure(connection).get_current_heads()
    tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
    return tuple(heads), tables


def _check(engine: Engine, where: str, *, allow_older: bool) -> tuple[tuple[str, ...], str]:
    """(the database's revisions, head), unless this version cannot use or migrate its schema."""
    revisions, tables = _state(engine, where)
    script = ScriptDirectory.from_config(alembic_config(engine))
    head = _head(script)
    if not revisions:
        if tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise SchemaError(
                f"database {where} is not an Attention Atlas database "
                f"(tables {shown} but no Alembic revision)"
            )
        if not allow_older:
            raise SchemaError(f"database {where} has no Attention Atlas schema: {UPGRADE_HINT}")
        return revisions, head
    known = {s.revision for s in script.walk_revisions()}
    unknown = [r for r in revisions if r not in known]
    if unknown:
        raise SchemaError(
            f"database {where} is at schema revision {', '.join(unknown)}, which this version of "
            f"attention-atlas does not know (its newest is {head}): upgrade attention-atlas"
        )
    if revisions != (head,) and not allow_older:
        raise SchemaError(
            f"database {where} is at schema revision {', '.join(revisions)}, older than "
            f"{head}: {UPGRADE_HINT}"
        )
    return revisions, head


def require_head(engine: Engine, where: str | None = None) -> str:
    """The head revision when the database at ``engine`` is at it; otherwise
    :class:`SchemaError` saying why not and what to do. ``where`` names the database in the
    message (default: the engine's URL, password hidden)."""
    return _check(engine, _where(engine, where), allow_older=False)[1]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` up to ``revision`` (no-op when already there).

    Raises :class:`SchemaError`, and writes nothing, when the database cannot be read, is not
    an Attention Atlas database, or is at a revision this version does not know."""
    where = _where(engine, None)
    current, head = _check(engine, where, allow_older=True)
    if revision == "head" and current == (head,):
        return
    try:
        command.upgrade(alembic_config(engine), revision)
    except (OperationalError, ProgrammingError) as exc:
        if revision == "head" and _migrated_meanwhile(engine, where, head):
            return  # another process (a shard, a second worker) migrated it first
        reason = str(exc.orig).strip().splitlines()[0]  # locked, read-only, disk full
        raise SchemaError(f"cannot migrate database {where}: {reason}") from exc


def _migrated_meanwhile(engine: Engine, where: str, head: str, wait_s: float = 30.0) -> bool:
    """Whether a concurrent migration of a new database brings it to ``head`` (its ``CREATE
    TABLE`` made ours fail with "already exists") within ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if _check(engine, where, allow_older=True)[0] == (head,):
                return True
        except SchemaError:
            pass  # tables created, revision not yet stamped
        time.sleep(0.2)
    return False

"""The ``attention-atlas`` command: a thin shell over the library.

``ingest`` builds its options from :class:`ingest.settings.IngestSettings` (one table of flags,
defaults and help) and calls :func:`ingest.pipeline.run_ingest`; ``runs`` and ``db upgrade``
call ``db`` functions; ``serve`` starts the dashboard. Mistakes a user can make (a bad model id,
a missing file or field, a database URL that cannot be opened, ...) end with one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, NoReturn

import click

from ingest.settings import IngestSettings, SettingsError, option_envvar, parse_methods

USER_ERROR = 2
INTERRUPTED = 130


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(USER_ERROR)


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the user asked for something impossible"."""
    from db.engine import DatabaseUrlError
    from db.migrate import SchemaError
    from db.writers import RunConflictError
    from ingest.adapters import AdapterError
    from ingest.corpus import CorpusError
    from ingest.loading import CheckpointError

    return (
        DatabaseUrlError,
        SchemaError,
        RunConflictError,
        AdapterError,
        CorpusError,
        CheckpointError,
        SettingsError,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="attention-atlas")
def main() -> None:
    """Attention Atlas: when do attention weights agree with IG and SHAP attributions?"""


# -- ingest -------------------------------------------------------------------------------
def _shown_default(value: Any) -> str | bool:
    """A str default escaped, so --help shows the prompt's newline as \\n, not a folded line."""
    return value.encode("unicode_escape").decode() if isinstance(value, str) else True


def _setting_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``command`` with one click option per IngestSettings field."""
    for f in reversed(fields(IngestSettings)):
        meta = f.metadata
        kind = meta["kind"]
        kwargs: dict[str, Any] = {
            "help": meta["help"],
            "envvar": option_envvar(f),
            "show_envvar": True,
        }
        if kind == "flag":
            kwargs["is_flag"] = True
        elif kind == "int":
            kwargs["type"] = click.INT
        elif kind == "choice":
            kwargs["type"] = click.Choice(meta["choices"])
        if meta.get("required"):
            kwargs["required"] = True
        elif f.default is not MISSING and f.default is not None and kind != "list":
            kwargs["default"] = f.default
            kwargs["show_default"] = _shown_default(f.default)
        elif kind == "list" and f.default not in (MISSING, None):
            kwargs["show_default"] = ",".join(f.default)
        command = click.option(meta["flag"], f.name, **kwargs)(command)
    return command


def settings_from_options(options: dict[str, Any]) -> IngestSettings:
    """CLI option values -> IngestSettings (comma lists split, methods checked)."""
    values: dict[str, Any] = {}
    for f in fields(IngestSettings):
        value = options.get(f.name)
        if f.name == "methods":
            value = parse_methods(value)
        elif f.metadata["kind"] == "list":
            if value is None:
                continue
            value = tuple(part for part in value.split(",") if part.strip())
        elif value is None and f.default is not MISSING:
            continue
        values[f.name] = value
    return IngestSettings(**values)


@main.command()
@_setting_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(quiet: bool, **options: Any) -> None:
    """Run a classifier over a corpus and store predictions, attention and explanations."""
    errors = _user_errors()
    try:
        settings = settings_from_options(options)
        from ingest.pipeline import run_ingest

        result = run_ingest(settings, progress=not quiet)
    except errors as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo(
            "Interrupted: the batch in flight was not stored; rerun the same command to continue.",
            err=True,
        )
        sys.exit(INTERRUPTED)
    click.echo(
        f"run {result.run_name!r} (id {result.run_id}): {result.n_new} new examples, "
        f"{result.n_done}/{result.n_source} stored, {result.n_skipped} empty skipped, "
        f"{result.examples_per_second:.1f} examples/s"
    )


# -- runs and db --------------------------------------------------------------------------
_DB_OPTION = click.option(
    "--db",
    "db_url",
    envvar="ATLAS_DATABASE_URL",
    show_envvar=True,
    help="Database URL or SQLite file path. Default: atlas.db in the working directory.",
)


def _engine(db_url: str | None, *, migrate: bool = False):  # noqa: ANN202 - Engine
    """An engine on ``db_url`` at the newest schema: migrated there when ``migrate``; otherwise
    opened read-only and checked (a database that is missing, unreadable, not an Atlas database
    or at another revision ends the command with one line)."""
    from db.engine import DatabaseUrlError, make_engine, shown_url
    from db.migrate import SchemaError, require_head, upgrade

    try:
        engine = make_engine(db_url, readonly=not migrate)
        if migrate:
            upgrade(engine)
        else:
            require_head(engine, shown_url(db_url))
    except (DatabaseUrlError, SchemaError) as exc:
        _fail(str(exc))
    return engine


@main.command()
@_DB_OPTION
def runs(db_url: str | None) -> None:
    """List runs with their status and counts."""
    from db.engine import session_factory
    from db.queries import list_runs

    engine = _engine(db_url)
    with session_factory(engine)() as session:
        summaries = list_runs(session)
    if not summaries:
        click.echo("no runs yet")
        return
    click.echo(f"{'id':>4}  {'status':<9} {'done':>12} {'skipped':>7} {'seconds':>8}  name")
    for r in summaries:
        done = f"{r.n_done}/{r.n_source}"
        click.echo(
            f"{r.id:>4}  {r.status:<9} {done:>12} {r.n_skipped:>7} {r.seconds:>8.1f}  "
            f"{r.name}  [{r.adapter}; {r.checkpoint} on {r.dataset}"
            f"{':' + r.split if r.split else ''}]"
        )


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@_DB_OPTION
def db_upgrade(db_url: str | None) -> None:
    """Create or migrate the database schema to the newest revision."""
    from db.migrate import current_revision

    engine = _engine(db_url, migrate=True)
    click.echo(f"database at revision {current_revision(engine)}")


PORT = click.IntRange(0, 65535)  # 0: any free port


# -- serve --------------------------------------------------------------------------------
@main.command()
@_DB_OPTION
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="ATLAS_HOST",
    show_envvar=True,
    help="Interface to listen on (0.0.0.0 to share on the network).",
)
@click.option(
    "--port",
    default=8050,
    show_default=True,
    type=PORT,
    envvar="ATLAS_PORT",
    show_envvar=True,
    help="Port to listen on.",
)
@click.option("--debug", is_flag=True, help="Dash debug mode (reloader, dev tools).")
def serve(db_url: str | None, host: str, port: int, debug: bool) -> None:
    """Serve the dashboard over a database written by ingest."""
    from db.engine import resolve_url

    _serve(resolve_url(db_url), host, port, debug)


def _serve(url: str, host: str, port: int, debug: bool) -> None:
    from dashboard.app import create_app
    from db.engine import DatabaseUrlError

    _engine(url).dispose()  # the dashboard reads the newest schema only: check it first
    try:
        app = create_app(url)
    except DatabaseUrlError as exc:
        _fail(str(exc))
    click.echo(f"serving {url} at http://{host}:{port}/", err=True)
    app.run(host=host, port=port, debug=debug)


# -- demo ---------------------------------------------------------------------------------
@main.command()
@click.option(
    "--db",
    "db_url",
    default="atlas-demo.db",
    show_default=True,
    help="Database URL or SQLite file path for the demo run.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=".cache/attention-atlas",
    show_default=True,
    envvar="ATLAS_CACHE_DIR",
    show_envvar=True,
    help="Where the fine-tuned demo model is kept and reused.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to serve on.")
@click.option("--port", default=8050, show_default=True, type=PORT, help="Port.")
@click.option("--no-serve", is_flag=True, help="Build and ingest only; do not start the server.")
def demo(db_url: str, cache_dir: str, host: str, port: int, no_serve: bool) -> None:
    """Fine-tune all-MiniLM-L6-v2 on the demo corpus, ingest its held-out reviews, serve."""
    from db.engine import resolve_url
    from ingest.demo.model import DemoModelError
    from ingest.demo.run import prepare_demo

    url = resolve_url(db_url)
    try:
        timings = prepare_demo(url, Path(cache_dir))
    except (DemoModelError, *_user_errors()) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("Interrupted: rerun `attention-atlas demo` to continue.", err=True)
        sys.exit(INTERRUPTED)
    click.echo(
        f"demo ready: fine-tune {timings.fine_tune:.0f} s, ingest {timings.ingest:.0f} s, "
        f"{timings.n_examples} examples in {url}",
        err=True,
    )
    if not no_serve:
        _serve(url, host, port, debug=False)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))

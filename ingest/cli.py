"""The ``attention-atlas`` command: a thin shell over the library.

``ingest`` builds its options from :class:`ingest.settings.IngestSettings` (one table of flags,
defaults and help) and calls :func:`ingest.pipeline.run_ingest`; ``runs`` and ``db upgrade``
call ``db`` functions; ``serve`` starts the dashboard (gunicorn, or Flask's development server
with ``--dev``) and ``users add`` writes its auth file. Mistakes a user can make (a bad model id,
a missing file or field, a database URL that cannot be opened, ...) end with one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ingest.settings import IngestSettings, SettingsError, option_envvar, parse_methods

if TYPE_CHECKING:
    from dashboard.server import ServeOptions

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
@click.option(
    "--estimate",
    is_flag=True,
    help="Time a few examples of the corpus on the chosen device, print the expected wall time "
    "of the whole run per method and what --shap-evals, --methods and --max-length would save, "
    "and exit without storing anything.",
)
def ingest(quiet: bool, estimate: bool, **options: Any) -> None:
    """Run a classifier over a corpus and store predictions, attention and explanations."""
    errors = _user_errors()
    try:
        settings = settings_from_options(options)
        if estimate:
            _estimate(settings)
            return
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


def _estimate(settings: IngestSettings) -> None:
    """``ingest --estimate``: nothing is read from or written to the database."""
    from ingest.estimate import estimate_run, report
    from ingest.pipeline import load_inputs, token_budget

    corpus, adapter = load_inputs(settings)
    result = estimate_run(settings, list(corpus.items), adapter, token_budget(adapter))
    click.echo(report(result, str(adapter.device)))


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
_AUTH_FILE_OPTION = click.option(
    "--auth-file",
    type=click.Path(dir_okay=False),
    envvar="ATLAS_AUTH_FILE",
    show_envvar=True,
    help="File of user:password-hash lines (`attention-atlas users add`): every page, asset "
    "and callback then asks for HTTP basic auth.",
)


@main.command()
@_DB_OPTION
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="ATLAS_HOST",
    show_envvar=True,
    help="Interface to listen on (0.0.0.0 to share on the network; needs --auth-file or --public).",
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
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="ATLAS_SERVE_WORKERS",
    show_envvar=True,
    help="gunicorn worker processes (each opens the store read-only).",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="ATLAS_SERVE_THREADS",
    show_envvar=True,
    help="Threads per worker (requests served at once by each).",
)
@_AUTH_FILE_OPTION
@click.option(
    "--public",
    is_flag=True,
    help="Serve a non-loopback --host without --auth-file: anyone who reaches it reads the store.",
)
@click.option(
    "--dev",
    "--debug",
    "dev",
    is_flag=True,
    help="Flask's development server with the reloader and Dash dev tools, instead of gunicorn.",
)
def serve(
    db_url: str | None,
    host: str,
    port: int,
    workers: int,
    threads: int,
    auth_file: str | None,
    public: bool,
    dev: bool,
) -> None:
    """Serve the dashboard over a database written by ingest (gunicorn; Ctrl-C or SIGTERM
    stops it)."""
    from dashboard.server import ServeOptions
    from db.engine import resolve_url

    options = ServeOptions(host, port, workers, threads, auth_file)
    _serve(resolve_url(db_url), options, public=public, dev=dev)


def _serve(url: str, options: ServeOptions, *, public: bool = False, dev: bool = False) -> None:
    """Check everything that can be checked before binding (auth file, --public, the store's
    schema, the port), then serve until stopped."""
    from dashboard.auth import AuthFileError, read_auth_file
    from db.engine import DatabaseUrlError

    host, port = options.host, options.port
    try:
        n_users = len(read_auth_file(options.auth_file)) if options.auth_file else 0
    except AuthFileError as exc:
        _fail(str(exc))
    if not n_users and not public and not _is_loopback(host):
        _fail(
            f"--host {host} would let anyone on the network read the store: pass --auth-file "
            "FILE (see `attention-atlas users add`) or --public to serve it open"
        )
    _engine(url).dispose()  # the dashboard reads the newest schema only: check it first
    # --dev's reloader reruns this command in a child that inherits the parent's socket
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        _check_bindable(host, port)
        auth = f", basic auth for {n_users} user(s)" if n_users else ""
        click.echo(f"serving {url} at http://{_url_host(host)}:{port}/{auth}", err=True)
    try:
        if dev:
            from dashboard.app import serve as serve_dev

            serve_dev(url, host, port, debug=True, auth_file=options.auth_file)
        else:
            from dashboard.server import run_production

            run_production(url, options)
    except (DatabaseUrlError, AuthFileError) as exc:
        _fail(str(exc))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _check_bindable(host: str, port: int) -> None:
    """Fail with one line when ``host``:``port`` cannot be listened on (in use, no such
    interface), rather than with the server's retries and tracebacks."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            probe.bind(address)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


# -- users --------------------------------------------------------------------------------
@main.group()
def users() -> None:
    """Users of a served dashboard: the auth file for `serve --auth-file`."""


@users.command("add")
@click.argument("name")
@click.option(
    "--auth-file",
    type=click.Path(dir_okay=False),
    required=True,
    envvar="ATLAS_AUTH_FILE",
    show_envvar=True,
    help="Auth file to write (created when missing; NAME's line is replaced).",
)
def users_add(name: str, auth_file: str) -> None:
    """Add NAME, or set NAME's password, in the auth file (the password is prompted for)."""
    from dashboard.auth import AuthFileError, check_user_name, set_user

    try:
        check_user_name(name)
        password = click.prompt(
            f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
        replaced = set_user(auth_file, name, password)
    except AuthFileError as exc:
        _fail(str(exc))
    click.echo(f"{'updated' if replaced else 'added'} {name} in {auth_file}", err=True)


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
@click.option("--public", is_flag=True, help="Serve a non-loopback --host (no auth).")
@click.option("--no-serve", is_flag=True, help="Build and ingest only; do not start the server.")
def demo(db_url: str, cache_dir: str, host: str, port: int, public: bool, no_serve: bool) -> None:
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
        from dashboard.server import ServeOptions

        _serve(url, ServeOptions(host, port), public=public)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))

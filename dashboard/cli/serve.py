"""``serve`` and ``users``: the commands that start or guard the dashboard (added to the
``attention-atlas`` group by :mod:`attention_atlas.ingest.cli`); :func:`serve_store` also serves
the demo."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import TYPE_CHECKING

import click

from attention_atlas.db.cli_common import (
    DB_OPTION,
    PORT,
    fail,
    open_engine,
)

if TYPE_CHECKING:
    from attention_atlas.dashboard.server.production import ServeOptions


# -- serve --------------------------------------------------------------------------------
_AUTH_FILE_OPTION = click.option(
    "--auth-file",
    type=click.Path(dir_okay=False),
    envvar="ATLAS_AUTH_FILE",
    show_envvar=True,
    help="File of user:password-hash lines (`attention-atlas users add`): every page, asset "
    "and callback then asks for HTTP basic auth.",
)


@click.command()
@DB_OPTION
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
    "--read-only",
    is_flag=True,
    envvar="ATLAS_READ_ONLY",
    show_envvar=True,
    help="Public deployment: no notes, tags or saved views can be written (the controls are "
    "hidden and the server refuses writes).",
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
    read_only: bool,
    dev: bool,
) -> None:
    """Serve the dashboard over a database written by ingest (gunicorn; Ctrl-C or SIGTERM
    stops it)."""
    from attention_atlas.dashboard.server.production import ServeOptions
    from attention_atlas.db.engine import resolve_url

    options = ServeOptions(host, port, workers, threads, auth_file, read_only)
    serve_store(resolve_url(db_url), options, public=public, dev=dev)


def serve_store(
    url: str, options: ServeOptions, *, public: bool = False, dev: bool = False
) -> None:
    """Check everything that can be checked before binding (auth file, --public, the store's
    schema, the port), then serve until stopped."""
    from attention_atlas.dashboard.server.auth import AuthFileError, read_auth_file
    from attention_atlas.db.engine import DatabaseUrlError

    host, port = options.host, options.port
    try:
        n_users = len(read_auth_file(options.auth_file)) if options.auth_file else 0
    except AuthFileError as exc:
        fail(str(exc))
    if not n_users and not public and not _is_loopback(host):
        fail(
            f"--host {host} would let anyone on the network read the store: pass --auth-file "
            "FILE (see `attention-atlas users add`) or --public to serve it open"
        )
    open_engine(url).dispose()  # the dashboard reads the newest schema only: check it first
    # --dev's reloader reruns this command in a child that inherits the parent's socket
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        _check_bindable(host, port)
        auth = f", basic auth for {n_users} user(s)" if n_users else ""
        click.echo(f"serving {url} at http://{_url_host(host)}:{port}/{auth}", err=True)
    try:
        if dev:
            from attention_atlas.dashboard.server.app import serve as serve_dev

            serve_dev(
                url,
                host,
                port,
                debug=True,
                auth_file=options.auth_file,
                read_only=options.read_only,
            )
        else:
            from attention_atlas.dashboard.server.production import run_production

            run_production(url, options)
    except (DatabaseUrlError, AuthFileError) as exc:
        fail(str(exc))


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
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


# -- users --------------------------------------------------------------------------------
@click.group()
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
    from attention_atlas.dashboard.server.auth import AuthFileError, check_user_name, set_user

    try:
        check_user_name(name)
        password = click.prompt(
            f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
        replaced = set_user(auth_file, name, password)
    except AuthFileError as exc:
        fail(str(exc))
    click.echo(f"{'updated' if replaced else 'added'} {name} in {auth_file}", err=True)

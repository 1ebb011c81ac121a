"""The production server behind ``attention-atlas serve``: gunicorn, configured in code.

:class:`AtlasServer` is a gunicorn application that serves
:func:`dashboard.server.app.make_server`'s Flask app (compressed responses, basic auth when an
auth file is given) with ``workers`` processes of ``threads`` threads each (gthread workers),
an access log on stderr next to gunicorn's own log, and gunicorn's signal handling: SIGTERM
finishes the requests in flight and exits 0, Ctrl-C (SIGINT) stops at once and exits 0.

The app is built once in the master before it forks (a broken store fails before the port is
bound, and workers share the loaded code); each worker then asks the data service to drop the
database connections it inherited, and opens its own.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from attention_atlas.dashboard.data.service import service_of

GRACEFUL_TIMEOUT_S = 10  # SIGTERM: how long requests in flight may take to finish


@dataclass(frozen=True)
class ServeOptions:
    """How ``attention-atlas serve`` runs gunicorn."""

    host: str = "127.0.0.1"
    port: int = 8050
    workers: int = 2
    threads: int = 4
    auth_file: str | None = None
    read_only: bool = False  # no notes, tags or saved views written (and none offered)


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for ``host``:``port`` (IPv6 literals in brackets)."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class _StderrAccessLogger(Logger):
    """gunicorn's logger with the access log on stderr (``accesslog="-"`` means stdout)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.access_log.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)


def _post_fork(server: Any, worker: Any) -> None:
    """A forked worker must not share the master's pooled database connections."""
    data = service_of(server.app.wsgi())
    if data is not None:
        data.after_fork()


class AtlasServer(BaseApplication):
    """gunicorn serving the dashboard over ``db_url`` as ``options`` say."""

    def __init__(self, db_url: str, options: ServeOptions) -> None:
        self.db_url = db_url
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        settings = {
            "bind": [bind_address(o.host, o.port)],
            "workers": o.workers,
            "threads": o.threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "logger_class": _StderrAccessLogger,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "preload_app": True,
            "post_fork": _post_fork,
            "control_socket_disable": True,  # its default path is shared by every instance
            "proc_name": "attention-atlas",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from attention_atlas.dashboard.server.app import make_server

        o = self.options
        return make_server(self.db_url, auth_file=o.auth_file, read_only=o.read_only)


def run_production(db_url: str, options: ServeOptions) -> None:
    """Serve until SIGTERM or Ctrl-C (then exit 0 through ``SystemExit``)."""
    AtlasServer(db_url, options).run()

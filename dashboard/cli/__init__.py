"""The dashboard's commands (``serve``, ``users``, ``export``, ``notes``): the CLI assembly,
:mod:`attention_atlas.ingest.cli`, adds :data:`COMMANDS` to the ``attention-atlas`` group, and
``demo`` serves its store with :func:`serve_local`. This package is the one door from the ingest
side into the dashboard (``.importlinter``)."""

from __future__ import annotations

import click

from attention_atlas.dashboard.cli.export import export
from attention_atlas.dashboard.cli.notes import notes
from attention_atlas.dashboard.cli.serve import serve, serve_store, users

COMMANDS: tuple[click.Command, ...] = (serve, users, notes, export)


def serve_local(url: str, host: str, port: int, *, public: bool = False) -> None:
    """Serve ``url`` with the production server's defaults (``attention-atlas demo``)."""
    from attention_atlas.dashboard.server.production import ServeOptions

    serve_store(url, ServeOptions(host, port), public=public)

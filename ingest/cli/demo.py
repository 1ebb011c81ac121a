"""``attention-atlas demo``: fine-tune the demo classifier, ingest its held-out reviews and serve
them. Serving is the dashboard's business: the CLI assembly passes it in (:func:`demo_command`),
so this module does not import the dashboard."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from attention_atlas.db.cli_common import INTERRUPTED, PORT, fail
from attention_atlas.ingest.cli.common import user_errors

ServeLocal = Callable[..., None]  # serve_local(url, host, port, *, public): serves until stopped

_OPTIONS = (
    click.option(
        "--db",
        "db_url",
        default="atlas-demo.db",
        show_default=True,
        help="Database URL or SQLite file path for the demo run.",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False),
        default=".cache/attention-atlas",
        show_default=True,
        envvar="ATLAS_CACHE_DIR",
        show_envvar=True,
        help="Where the fine-tuned demo model is kept and reused.",
    ),
    click.option("--host", default="127.0.0.1", show_default=True, help="Interface to serve on."),
    click.option("--port", default=8050, show_default=True, type=PORT, help="Port."),
    click.option("--public", is_flag=True, help="Serve a non-loopback --host (no auth)."),
    click.option(
        "--no-serve", is_flag=True, help="Build and ingest only; do not start the server."
    ),
)


def demo_command(serve_local: ServeLocal) -> click.Command:
    """The ``demo`` command; it serves the demo store with ``serve_local``."""

    def demo(
        db_url: str, cache_dir: str, host: str, port: int, public: bool, no_serve: bool
    ) -> None:
        """Fine-tune all-MiniLM-L6-v2 on the demo corpus, ingest its held-out reviews, serve."""
        url = prepare(db_url, Path(cache_dir))
        if not no_serve:
            serve_local(url, host, port, public=public)

    for option in reversed(_OPTIONS):
        demo = option(demo)
    return click.command("demo")(demo)


def prepare(db_url: str, cache_dir: Path) -> str:
    """Build (or reuse) the demo model and ingest the demo corpus; the store's URL."""
    from attention_atlas.db.engine import resolve_url
    from attention_atlas.ingest.demo.model import DemoModelError
    from attention_atlas.ingest.demo.run import prepare_demo

    url = resolve_url(db_url)
    errors: tuple[type[BaseException], ...] = (DemoModelError, *user_errors())
    try:
        timings = prepare_demo(url, cache_dir)
    except errors as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo("Interrupted: rerun `attention-atlas demo` to continue.", err=True)
        sys.exit(INTERRUPTED)
    click.echo(
        f"demo ready: fine-tune {timings.fine_tune:.0f} s, ingest {timings.ingest:.0f} s, "
        f"{timings.n_examples} examples in {url}",
        err=True,
    )
    return url

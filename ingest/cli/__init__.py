"""The ``attention-atlas`` command: a thin shell over the library.

``ingest`` builds its options from :class:`ingest.settings.IngestSettings` (one table of flags,
defaults and help) and calls :func:`ingest.pipeline.run_ingest`; ``runs`` and ``db upgrade``
call ``db`` functions; ``serve``, ``users`` and ``demo`` live in :mod:`dashboard.cli.serve`. Each
further command lives in its own module and is added here with ``main.add_command``. Mistakes
a user can make (a bad model id, a missing file or field, a database URL that cannot be
opened, ...) end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from attention_atlas.dashboard import cli as dashboard_cli
from attention_atlas.db.cli_common import DB_OPTION, INTERRUPTED, fail, open_engine
from attention_atlas.db.engine import shown_url
from attention_atlas.ingest.cli.common import user_errors
from attention_atlas.ingest.cli.demo import demo_command
from attention_atlas.ingest.cli.explain import explain
from attention_atlas.ingest.cli.export_run import export_run
from attention_atlas.ingest.cli.options import setting_options, settings_from_options
from attention_atlas.ingest.cli.sanity import sanity
from attention_atlas.ingest.progress import pace
from attention_atlas.ingest.settings import IngestSettings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="attention-atlas")
def main() -> None:
    """Attention Atlas: when do attention weights agree with IG and SHAP attributions?"""


# -- ingest -------------------------------------------------------------------------------
@main.command()
@setting_options()
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--verbose", "-v", is_flag=True, help="With Ray workers: a line per batch a worker finishes."
)
@click.option(
    "--estimate",
    is_flag=True,
    help="Time a few examples of the corpus on the chosen device, print the expected wall time "
    "of the whole run per method and what --shap-evals, --methods and --max-length would save, "
    "and exit without storing anything. A corpus of three batches or fewer is the timing sample "
    "itself: it is ingested and stored instead, and the time it took is printed.",
)
def ingest(quiet: bool, verbose: bool, estimate: bool, **options: Any) -> None:
    """Run a classifier over a corpus and store predictions, attention and explanations."""
    errors = user_errors()
    try:
        settings = settings_from_options(options)
        if estimate:
            _estimate(settings, quiet)
            return
        from attention_atlas.ingest.pipeline import run_ingest

        say = _say if verbose else None
        result = run_ingest(settings, progress=not quiet, say=say)
    except errors as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo(
            "Interrupted: the batch in flight was not stored; rerun the same command to continue.",
            err=True,
        )
        sys.exit(INTERRUPTED)
    click.echo(
        f"run {result.run_name!r} (id {result.run_id}): {result.n_new} new examples, "
        f"{result.n_done}/{result.n_source} stored, {result.n_skipped} empty skipped"
        + (f", {pace(result.examples_per_second)}" if result.n_new else "")
    )


def _say(line: str) -> None:
    """A line above the progress bar (tqdm keeps the bar at the bottom)."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def _estimate(settings: IngestSettings, quiet: bool) -> None:
    """``ingest --estimate``: nothing is read from or written to the database, unless timing
    the corpus would be running it (three batches or fewer): then it is ingested and stored."""
    from attention_atlas.ingest.estimate import estimate_run, report, timing_is_the_run
    from attention_atlas.ingest.pipeline import load_inputs, read_corpus, run_ingest, token_budget

    corpus = read_corpus(settings)
    if timing_is_the_run(len(corpus.items), settings.batch_size):
        started = time.perf_counter()
        result = run_ingest(settings, progress=not quiet, corpus=corpus)
        click.echo(
            f"the corpus is {len(corpus.items)} examples, 3 batches or fewer: the estimate would "
            f"be the whole run, so it was stored as run {result.run_name!r} (id {result.run_id}, "
            f"{result.n_new} new examples) in {shown_url(settings.db)}: took "
            f"{time.perf_counter() - started:.1f} s"
        )
        return
    corpus, adapter = load_inputs(settings, corpus)
    estimate = estimate_run(settings, list(corpus.items), adapter, token_budget(adapter))
    click.echo(report(estimate, str(adapter.device), workers=settings.workers))


# -- runs and db --------------------------------------------------------------------------


@main.command()
@DB_OPTION
def runs(db_url: str | None) -> None:
    """List runs with their status and counts."""
    from attention_atlas.db.engine import session_factory
    from attention_atlas.db.queries import list_runs

    engine = open_engine(db_url)
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
            + (f"  shards {r.shards[0]}/{r.shards[1]} done" if r.shards else "")
        )


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@DB_OPTION
def db_upgrade(db_url: str | None) -> None:
    """Create or migrate the database schema to the newest revision."""
    from attention_atlas.db.migrate import current_revision

    engine = open_engine(db_url, migrate=True)
    click.echo(f"database at revision {current_revision(engine)}")


for command in (
    demo_command(dashboard_cli.serve_local),
    sanity,
    explain,
    export_run,
    *dashboard_cli.COMMANDS,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))

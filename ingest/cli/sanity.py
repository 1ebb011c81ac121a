"""``attention-atlas sanity``: the model-randomization sanity check (Adebayo et al. 2018) in
one command.

It ingests the corpus twice into one store, with the trained checkpoint and with its weights
re-initialised (all of them, or cascading from the top layer down to each ``--layers K``), and
prints the compare page's URL for each trained/randomized pair. Both ingests are ordinary,
resumable runs: rerunning the command continues where it stopped, and ``--run NAME`` names the
trained run (an existing run of the same settings is reused as it is), the randomized ones
``NAME-random`` / ``NAME-random-from-K``.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import click

from attention_atlas.db.cli_common import INTERRUPTED, fail
from attention_atlas.ingest.cli.common import user_errors
from attention_atlas.ingest.cli.options import setting_options, settings_from_options
from attention_atlas.ingest.settings import IngestSettings

COMPARE_PATH = "/compare"  # attention_atlas.dashboard.pages.compare registers this path


def randomized_settings(settings: IngestSettings, layers: tuple[int, ...]) -> list[IngestSettings]:
    """The randomized twins of ``settings``: one per cascading depth in ``layers``, or one
    with every weight re-initialised when ``layers`` is empty."""
    depths: tuple[int | None, ...] = tuple(dict.fromkeys(layers)) or (None,)
    out = []
    for depth in depths:
        name = None
        if settings.run_name:
            name = settings.run_name + ("-random" if depth is None else f"-random-from-{depth}")
        out.append(replace(settings, randomize_weights=True, randomize_layers=depth, run_name=name))
    return out


def _check_depths(settings: IngestSettings, layers: tuple[int, ...]) -> None:
    """Every ``--layers`` depth fits the checkpoint, checked before the first ingest."""
    from attention_atlas.ingest.loading import LoadRequest, check_randomize_depth

    for depth in layers:
        check_randomize_depth(LoadRequest(settings.checkpoint, settings.revision), depth)


def compare_url(host: str, trained_id: int, randomized_id: int) -> str:
    """The compare page of the two runs on a server at ``host`` (``http://...:port``)."""
    from attention_atlas.dashboard.urlstate import CompareState

    search = CompareState(a=trained_id, b=randomized_id).to_search()
    return f"{host.rstrip('/')}{COMPARE_PATH}{search}"


@click.command()
@setting_options(exclude=("randomize_weights", "randomize_layers"))
@click.option(
    "--layers",
    type=click.IntRange(min=0),
    multiple=True,
    help="Cascading randomization: re-initialise the layers from the top down to layer K "
    "(0-based) plus the head; repeat for several depths. Default: every weight.",
)
@click.option(
    "--server",
    default="http://127.0.0.1:8050",
    show_default=True,
    help="Where `attention-atlas serve` will serve the store, for the printed compare URLs.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def sanity(layers: tuple[int, ...], server: str, quiet: bool, **options: Any) -> None:
    """Ingest the corpus with the trained checkpoint and with randomized weights into one store
    and print the compare URL: a method whose maps barely change is not explaining the model."""
    from attention_atlas.db.engine import make_engine
    from attention_atlas.ingest.pipeline import run_ingest

    errors = user_errors()
    try:
        trained = replace(settings_from_options(options), randomize_weights=False)
        twins = randomized_settings(trained, layers)
        _check_depths(trained, layers)
        engine = make_engine(trained.db)
        results = [run_ingest(s, engine=engine, progress=not quiet) for s in (trained, *twins)]
    except errors as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo("Interrupted: rerun the same command to continue.", err=True)
        sys.exit(INTERRUPTED)
    for result in results:
        click.echo(f"run {result.run_name!r} (id {result.run_id}): {result.n_done} examples")
    for result in results[1:]:
        click.echo(f"compare: {compare_url(server, results[0].run_id, result.run_id)}")

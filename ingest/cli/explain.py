"""``attention-atlas explain --text "..."``: one hand-typed text, explained with the ingest
methods and stored as the next example of a run (:mod:`ingest.hand_typed`); prints the example
page's URL. Takes ingest's settings options except those that select rows of a corpus."""

from __future__ import annotations

from typing import Any

import click

from attention_atlas.db.cli_common import fail
from attention_atlas.ingest.cli.common import user_errors
from attention_atlas.ingest.cli.options import setting_options, settings_from_options

EXAMPLE_PATH = (
    "/example/{id}"  # attention_atlas.dashboard.pages.example registers /example/<example_id>
)
CORPUS_OPTIONS = (
    "dataset",
    "split",
    "text_field",
    "label_field",
    "rationale_field",
    "rationale_format",
    "limit",
    "sample",
    "batch_size",
)


def example_url(server: str, example_id: int, run_id: int) -> str:
    """The example page of ``example_id`` on ``server``, walking its own run (the filter's
    ``run`` key; without it, previous / next would walk the newest run)."""
    from attention_atlas.dashboard.urlstate import CorpusState

    search = CorpusState(run=run_id).to_search()
    return f"{server.rstrip('/')}{EXAMPLE_PATH.format(id=example_id)}{search}"


@click.command()
@click.option("--text", required=True, help="The text to explain (quote it).")
@click.option(
    "--text-pair",
    default=None,
    help="The second text of a sentence pair (a hypothesis after --text's premise), for a "
    "pair classifier; the pair is encoded as ingest encodes two --text-field columns.",
)
@setting_options(exclude=CORPUS_OPTIONS)
@click.option(
    "--server",
    default="http://127.0.0.1:8050",
    show_default=True,
    help="Where `attention-atlas serve` will serve the store, for the printed URL.",
)
def explain(text: str, text_pair: str | None, server: str, **options: Any) -> None:
    """Explain one text with every selected method and store it as an example of a run.

    By default the run is <checkpoint>-hand-typed-<settings hash>: one run per checkpoint
    and settings for hand-typed texts, each new text at the next source index. --run NAME
    picks another; a run of that name with other settings (or a corpus run) is refused."""
    from attention_atlas.ingest.hand_typed import explain_text

    errors = user_errors()
    try:
        stored = explain_text(text, settings_from_options(options), text_pair)
    except errors as exc:
        fail(str(exc))
    click.echo(
        f"run {stored.run_name!r} (id {stored.run_id}): example {stored.example_id} "
        f"(source index {stored.source_index})"
    )
    click.echo(example_url(server, stored.example_id, stored.run_id))

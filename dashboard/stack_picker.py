"""The attention-stack picker of the example and heads pages (encoder-decoder runs).

An encoder-decoder run stores three attention stacks (``vocabulary.STACKS``: the encoder, the
decoder's self-attention, the cross-attention); the pages show one at a time, chosen by the
``stack`` URL key. A run of a one-stack model keeps the picker in the layout (its callbacks
read it) but hidden, and any ``stack`` in its URL means its one stack.
"""

from __future__ import annotations

from dash import dcc, html

from attention_atlas.db.queries import RunInfo
from attention_atlas.models import vocabulary


def stack_for(run: RunInfo | None, wanted: str) -> str:
    """``wanted`` when the run has that stack, else the main one."""
    return wanted if run is not None and wanted in run.stacks else vocabulary.MAIN_STACK


def picker(component_id: str, run: RunInfo | None, value: str) -> html.Div:
    """Radio items over the run's stacks (hidden when it has none)."""
    stacks = run.stacks if run is not None else ()
    options = [{"label": vocabulary.STACK_LABELS[s], "value": s} for s in stacks]
    return html.Div(
        [
            html.Label("attention"),
            dcc.RadioItems(
                options or [vocabulary.MAIN_STACK],
                stack_for(run, value),
                id=component_id,
                inline=True,
            ),
        ],
        style=None if stacks else {"display": "none"},
        className="stack-picker",
    )


def layer_head_options(layers: int, heads: int) -> tuple[list[dict], list[dict]]:
    """The layer and head dropdown options ("mean" = -1, then 0..n-1) of a stack's shape."""

    def options(n: int) -> list[dict]:
        return [{"label": "mean", "value": -1}] + [{"label": str(i), "value": i} for i in range(n)]

    return options(layers), options(heads)

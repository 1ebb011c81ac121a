"""Heads page ``/heads``: the layer x head grid averaged over the current filter.

Statistics: mean Spearman rho of each head's prediction-position attention with IG or SHAP
(``HeadScore``), or the share of that attention on the first token / on special tokens
(from ``Attention.rows``). Reduced with numpy over the data service's per-run cached stacks.
An encoder-decoder run picks the attention stack (encoder, decoder, cross) with ``stack``.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from attention_atlas.dashboard import head_panels, ids, inputs, stack_picker, urls
from attention_atlas.dashboard.components import reference_choices
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.figures import charts
from attention_atlas.dashboard.provenance import run_provenance
from attention_atlas.dashboard.urlstate import HeadsState
from attention_atlas.models import vocabulary

STATS = {
    "rho": "mean Spearman ρ",
    "first": "share on first token",
    "special": "share on special tokens",
}


def layout(**query: Any) -> html.Div:
    state = HeadsState.parse(query)
    run = service().run(state.corpus.run)
    return html.Div(
        [
            dcc.Store(id=ids.STATE, data=state.to_search()),
            dcc.Store(id=ids.HD_SELECTED, data=[state.layer, state.head]),
            html.H2("Heads over the current filter", className="page-title"),
            run_provenance(run),
            html.Div(
                [
                    stack_picker.picker(ids.HD_STACK, run, state.stack),
                    html.Label("reference"),
                    dcc.RadioItems(
                        reference_choices(run.methods if run else None, state.ref),
                        state.ref,
                        id=ids.HD_REF,
                        inline=True,
                    ),
                    html.Label("statistic"),
                    dcc.RadioItems(
                        [{"label": v, "value": k} for k, v in STATS.items()],
                        state.stat,
                        id=ids.HD_STAT,
                        inline=True,
                    ),
                    *head_panels.importance_control(state),
                ],
                className="example-controls",
            ),
            head_panels.grids_row(dcc.Graph(id=ids.HD_GRID)),
            head_panels.summary_row(dcc.Graph(id=ids.HD_TREND)),
            html.Div(id=ids.HD_TABLE),
        ]
    )


def heads_view(state: HeadsState):
    """(grid figure, trend figure, example lists) for ``state``."""
    data = service()
    run = data.run(state.corpus.run)
    if run is None:
        empty = charts.empty_figure("no run")
        return empty, empty, ""
    f = state.corpus.to_filter(run.id)
    state = state.with_(stack=stack_picker.stack_for(run, state.stack))
    summary = data.heads_summary(run, f, state.ref, state.stat, state.stack)
    grids = vocabulary.stack_reference(state.ref, state.stack)
    if state.stat == "rho" and data.head_stack(run, grids)[1] is None:
        empty = charts.empty_figure(_no_grids(state.ref))
        return empty, empty, ""
    if summary.mean is None:
        empty = charts.empty_figure("no examples match the filter")
        return empty, empty, ""
    label = STATS[state.stat] + (f" with {state.ref}" if state.stat == "rho" else "")
    if run.stacks:
        label = f"{vocabulary.STACK_LABELS[state.stack]}: {label}"
    selected = _selected(state, run)
    grid = charts.head_grid(
        summary.mean,
        f"{label} (n = {summary.n}); click a head",
        label,
        selected,
        signed=state.stat == "rho",
    )
    trend = charts.layer_trend(summary.mean, summary.std, f"{label} by layer", label)
    return grid, trend, _extremes(state, run, f, selected)


def _no_grids(ref: str) -> str:
    # runs ingested before every method became a reference have grids for IG and SHAP only
    return f"no head grids against {vocabulary.label_of(ref)} in this run (older runs: IG, SHAP)"


def _selected(state: HeadsState, run) -> tuple[int, int] | None:
    """The selected (layer, head) when the run has it: it indexes the per-run stacks."""
    layer, head = state.layer, state.head
    layers, heads = run.shape_of(state.stack)
    if layer is None or head is None or layer >= layers or head >= heads:
        return None
    return layer, head


def _extremes(state: HeadsState, run, f, selected) -> Any:
    if selected is None:
        return html.P("Click a head to list the examples where it agrees most and least.")
    top, bottom = service().head_extremes(run, f, state.ref, *selected, stack=state.stack)
    search = state.corpus.to_search()

    def items(pairs: list[tuple[int, float]]) -> html.Ul:
        return html.Ul(
            [
                html.Li(dcc.Link(f"example {i}: ρ = {v:.3f}", href=urls.example(i, search)))
                for i, v in pairs
            ]
        )

    return html.Div(
        [
            html.Div([html.H3(f"Layer {selected[0]} head {selected[1]}: agrees most"), items(top)]),
            html.Div([html.H3("agrees least"), items(bottom)]),
        ],
        className="two-col",
    )


def update_heads(ref: Any, stat: Any, click: Any, selected: Any, search: Any, stack: Any = None):
    """Reference, statistic, a click on the grid (or the head selected before), the attention
    stack -> the view."""
    state = HeadsState.parse(inputs.as_search(search))
    chosen = inputs.as_list(selected, 3)
    cell = inputs.clicked_cell(click)
    if cell is None and len(chosen) == 2:
        cell = (inputs.as_int(chosen[0]), inputs.as_int(chosen[1]))
    layer, head = cell or (None, None)
    state = state.with_(
        ref=inputs.as_choice(ref, vocabulary.reference_method_ids(), state.ref),
        stat=inputs.as_choice(stat, tuple(STATS), state.stat),
        stack=inputs.as_choice(stack, vocabulary.STACKS, state.stack),
        layer=layer,
        head=head,
    )
    grid, trend, table = heads_view(state)
    return grid, trend, table, state.to_search()


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.HD_GRID, "figure"),
        Output(ids.HD_TREND, "figure"),
        Output(ids.HD_TABLE, "children"),
        Output(ids.STATE, "data", allow_duplicate=True),
        Input(ids.HD_REF, "value"),
        Input(ids.HD_STAT, "value"),
        Input(ids.HD_SELECTED, "data"),  # a click on any grid (head_panels.select_head)
        State(ids.HD_SELECTED, "data"),
        State(ids.STATE, "data"),
        Input(ids.HD_STACK, "value"),
        prevent_initial_call="initial_duplicate",
    )(update_heads)
    head_panels.register_callbacks(app)


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__, path="/heads", title="Attention Atlas: heads", name="Heads", nav=2, layout=layout
)

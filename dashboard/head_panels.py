"""The heads page's causal panels: the importance grid (gate gradient or ablation) and the role
grid beside the agreement grid, the run's agreement-vs-importance rank correlation, the
sentiment vs structure chart by layer, and the examples where the selected head matters most.

A click on any of the three grids selects that head (``HD_SELECTED``); the page's own
callback and :func:`update_panels` both follow it, and both write the view to the URL
(``layer``, ``head``, ``imp``, ``ref``), each keeping the keys the other owns.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, ctx, dcc, html

from attention_atlas.dashboard import ids, inputs, urls
from attention_atlas.dashboard.data import heads as head_data
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.figures import charts
from attention_atlas.dashboard.figures import heads as head_figures
from attention_atlas.dashboard.urlstate import HeadsState
from attention_atlas.db.queries import CorpusFilter, RunInfo
from attention_atlas.models import vocabulary

GRIDS = (ids.HD_GRID, ids.HD_IMP_GRID, ids.HD_ROLE_GRID)


def importance_control(state: HeadsState) -> list:
    """The importance measure's label and radio items, for the page's control row."""
    options = [{"label": v, "value": k} for k, v in vocabulary.HEAD_IMPORTANCE.items()]
    return [
        html.Label("importance"),
        dcc.RadioItems(options, state.imp, id=ids.HD_IMP, inline=True),
    ]


def grids_row(agreement_grid: Any) -> html.Div:
    """The three grids side by side: agreement (the page's), importance, roles."""
    return html.Div(
        [agreement_grid, dcc.Graph(id=ids.HD_IMP_GRID), dcc.Graph(id=ids.HD_ROLE_GRID)],
        className="three-col",
    )


def summary_row(trend: Any) -> html.Div:
    """The correlation line, then the page's layer trend beside the sentiment/structure chart."""
    return html.Div(
        [
            html.P(id=ids.HD_CORR, className="head-correlation"),
            html.Div([trend, dcc.Graph(id=ids.HD_LAYERS)], className="two-col"),
            html.Div(id=ids.HD_IMP_TABLE),
        ]
    )


def panels_view(state: HeadsState) -> tuple[Any, Any, Any, Any, Any]:
    """(importance grid, role grid, layer chart, correlation text, example list)."""
    data = service()
    run = data.run(state.corpus.run)
    if run is None:
        empty = charts.empty_figure("no run")
        return empty, empty, empty, "", ""
    f = state.corpus.to_filter(run.id)
    panels = head_data.head_panels(data, run, f, state.ref, state.imp)
    selected = _selected(state, run.num_layers, run.num_heads)
    return (
        _importance_figure(panels, state, selected),
        _role_figure(panels, selected),
        _layer_figure(panels, state.ref),
        _correlation_text(panels, state),
        _matters_most(state, run, f, selected),
    )


def _selected(state: HeadsState, layers: int, heads: int) -> tuple[int, int] | None:
    if state.layer is None or state.head is None:
        return None
    return (state.layer, state.head) if state.layer < layers and state.head < heads else None


Cell = tuple[int, int] | None


def _importance_figure(panels: head_data.HeadPanels, state: HeadsState, selected: Cell) -> Any:
    if panels.importance is None:
        why = " (ingest with --head-ablation)" if state.imp == "ablation" else ""
        return charts.empty_figure(f"no {state.imp} head importance stored for this run{why}")
    label = vocabulary.HEAD_IMPORTANCE[state.imp]
    title = f"head importance (n = {panels.n})"
    return charts.head_grid(panels.importance, title, label, selected, signed=False)


def _role_figure(panels: head_data.HeadPanels, selected: Cell) -> Any:
    if panels.labels is None or panels.roles is None:
        return charts.empty_figure("no head roles stored for this run")
    return head_figures.role_grid(panels.labels, panels.roles, "head roles", selected)


def _layer_figure(panels: head_data.HeadPanels, reference: str) -> Any:
    if panels.structure is None:
        return charts.empty_figure("no attention shares stored for this run")
    title = "sentiment vs structure by layer (prediction row, mean over heads)"
    return head_figures.sentiment_structure(panels.top_share, panels.structure, reference, title)


def _correlation_text(panels: head_data.HeadPanels, state: HeadsState) -> str:
    if panels.correlation is None:
        return "agreement vs importance: not available for this run"
    label = vocabulary.HEAD_IMPORTANCE[state.imp]
    return (
        f"Does looking like {state.ref} predict mattering? Spearman ρ over heads between the "
        f"mean agreement grid and the mean {label} grid: {panels.correlation:+.3f} "
        f"(n = {panels.n} examples)"
    )


def _matters_most(state: HeadsState, run: RunInfo, f: CorpusFilter, selected: Cell) -> Any:
    if selected is None:
        return ""
    top = head_data.importance_top(service(), run, f, state.imp, *selected)
    if not top:
        return ""
    search = state.corpus.to_search()
    listed = state.corpus.with_(ids=tuple(i for i, _ in top), page=1).to_search()
    return html.Div(
        [
            html.H3(f"Layer {selected[0]} head {selected[1]}: matters most ({state.imp})"),
            html.Ul(
                [
                    html.Li(dcc.Link(f"example {i}: {v:.4f}", href=urls.example(i, search)))
                    for i, v in top
                ]
            ),
            dcc.Link("these examples in the corpus list", href=urls.page("corpus", listed)),
        ]
    )


def select_head(*args: Any) -> Any:
    """A click on any grid -> [layer, head] of the clicked cell (else no update)."""
    clicks = dict(zip(GRIDS, args, strict=False))
    cell = inputs.clicked_cell(clicks.get(ctx.triggered_id))
    return [cell[0], cell[1]] if cell else dash.no_update


def update_panels(ref: Any, imp: Any, selected: Any, search: Any) -> tuple[Any, ...]:
    """Reference, importance measure and the selected head -> the panels and the URL."""
    state = HeadsState.parse(inputs.as_search(search))
    chosen = inputs.as_list(selected, 3)
    layer, head = (
        (inputs.as_int(chosen[0]), inputs.as_int(chosen[1])) if len(chosen) == 2 else (None, None)
    )
    state = state.with_(
        ref=inputs.as_choice(ref, vocabulary.reference_method_ids(), state.ref),
        imp=inputs.as_choice(imp, tuple(vocabulary.HEAD_IMPORTANCE), state.imp),
        layer=layer,
        head=head,
    )
    return (*panels_view(state), state.to_search())


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.HD_SELECTED, "data"),
        *(Input(grid, "clickData") for grid in GRIDS),
        prevent_initial_call=True,
    )(select_head)
    app.callback(
        Output(ids.HD_IMP_GRID, "figure"),
        Output(ids.HD_ROLE_GRID, "figure"),
        Output(ids.HD_LAYERS, "figure"),
        Output(ids.HD_CORR, "children"),
        Output(ids.HD_IMP_TABLE, "children"),
        Output(ids.STATE, "data", allow_duplicate=True),
        Input(ids.HD_REF, "value"),
        Input(ids.HD_IMP, "value"),
        Input(ids.HD_SELECTED, "data"),
        State(ids.STATE, "data"),
        prevent_initial_call="initial_duplicate",
    )(update_panels)

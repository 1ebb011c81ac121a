"""Example page ``/example/<id>``: one example's tokens per method, attention, heads, curves.

Static parts (prediction, top-k bars, deletion curves, previous / next) are built in
``layout``; the token rows, the attention heatmap and the head grid follow the controls.
An encoder-decoder run's heatmap and head grid show the attention stack ``stack`` picks.
"""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from attention_atlas.dashboard import (
    example_tokens,
    ids,
    inputs,
    plausibility_panels,
    stack_picker,
    urls,
)
from attention_atlas.dashboard.components import reference_choices
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.export import button
from attention_atlas.dashboard.figures import attention_rows, charts, example
from attention_atlas.dashboard.provenance import run_provenance
from attention_atlas.dashboard.reading_group import notes_panel
from attention_atlas.dashboard.urlstate import DENSITIES, VIEWS, ExampleState
from attention_atlas.db import example_queries, queries
from attention_atlas.models import vocabulary
from attention_atlas.models.deletion_grid import grid_of


def not_found(example_id: Any) -> html.Div:
    shown = inputs.as_text(example_id) or ""
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return html.Div(
        [
            html.H2("Example not found"),
            html.P(f"There is no example with id {shown} in this database."),
            dcc.Link("Back to the corpus", href=urls.page("corpus")),
        ],
        className="not-found",
    )


def within(
    state: ExampleState, detail: example_queries.ExampleDetail, run: queries.RunInfo | None = None
) -> ExampleState:
    """``state`` with a stack, layer, head or token the example does not have dropped (main
    stack / mean / none): they index arrays, so they are checked against the example (and the
    run's stack shapes), not only the URL grammar."""
    stack = stack_picker.stack_for(run, state.stack)
    layers, heads = run.shape_of(stack) if run else (detail.num_layers, detail.num_heads)
    return state.with_(
        stack=stack,
        layer=state.layer if state.layer is not None and state.layer < layers else None,
        head=state.head if state.head is not None and state.head < heads else None,
        token=state.token if state.token is not None and state.token < len(detail.tokens) else None,
    )


def neighbours(state: ExampleState, run: queries.RunInfo, example_id: int):
    """(previous id, next id, position, total) of the example in the current filtered list."""
    corpus = state.corpus
    f = corpus.to_filter(run.id)
    order = service().ids(run, f, corpus.sort, corpus.desc)
    where = np.flatnonzero(order == example_id)
    if where.size == 0:
        return None, None, None, len(order)
    i = int(where[0])
    prev_id = int(order[i - 1]) if i > 0 else None
    next_id = int(order[i + 1]) if i + 1 < len(order) else None
    return prev_id, next_id, i + 1, len(order)


def _walk(state: ExampleState, run: queries.RunInfo, example_id: int) -> html.Div:
    prev_id, next_id, pos, total = neighbours(state, run, example_id)
    search = state.corpus.to_search()

    def link(target: int | None, text: str, cid: str) -> Any:
        if target is None:
            return html.Span(text, id=cid, className="walk disabled")
        return dcc.Link(text, href=urls.example(target, search), id=cid, className="walk")

    where = f"{pos} of {total} in the current filter" if pos else "not in the current filter"
    return html.Div(
        [
            link(prev_id, "← previous", ids.EX_PREV),
            html.Span(where),
            link(next_id, "next →", ids.EX_NEXT),
            dcc.Link("back to corpus", href=urls.page("corpus", search), className="walk"),
        ],
        className="walk-bar",
    )


def _controls(
    state: ExampleState, detail: example_queries.ExampleDetail, run: queries.RunInfo | None
) -> html.Div:
    shape = run.shape_of(state.stack) if run else (detail.num_layers, detail.num_heads)
    layers, heads = stack_picker.layer_head_options(*shape)
    value = lambda v: -1 if v is None else v  # noqa: E731
    return html.Div(
        [
            stack_picker.picker(ids.EX_STACK, run, state.stack),
            dcc.RadioItems(
                list(VIEWS),
                example_tokens.view_of(state, len(detail.tokens)),
                id=ids.EX_VIEW,
                inline=True,
            ),
            dcc.Checklist(
                [{"label": "show special tokens", "value": 1}],
                [1] if state.specials else [],
                id=ids.EX_SPECIALS,
                inline=True,
            ),
            html.Label("layer"),
            dcc.Dropdown(
                layers,
                value(state.layer),
                id=ids.EX_LAYER,
                clearable=False,
                className="small-dropdown",
            ),
            html.Label("head"),
            dcc.Dropdown(
                heads,
                value(state.head),
                id=ids.EX_HEAD,
                clearable=False,
                className="small-dropdown",
            ),
            html.Label("head grid reference"),
            dcc.RadioItems(
                reference_choices(list(service().head_scores(detail.id)), state.ref),
                state.ref,
                id=ids.EX_REF,
                inline=True,
            ),
        ],
        className="example-controls",
    )


def _summary(detail: example_queries.ExampleDetail) -> html.Div:
    names = detail.label_names
    gold = names[detail.label] if detail.label is not None else "–"
    verdict = {True: "correct", False: "wrong", None: "no gold label"}[detail.correct]
    bars = example.probability_bars(detail.probabilities, names, detail.label)
    return html.Div(
        [
            html.P(
                [
                    html.B("Gold: "),
                    gold,
                    html.B("  Prediction: "),
                    names[detail.prediction],
                    f" (p = {detail.confidence:.3f}, {verdict})",
                ]
            ),
            html.Div(  # the box from the start: the tracks below must not jump when plotly loads
                dcc.Graph(figure=bars, config={"displayModeBar": False}),
                style={"minHeight": f"{bars['layout']['height']}px"},
            ),
        ],
        className="summary",
    )


def _deletion(example_id: int, run: queries.RunInfo | None) -> Any:
    frame = service().example_faithfulness(example_id)
    if frame.empty:
        return charts.empty_figure("no faithfulness curves stored")
    order = vocabulary.with_random_last(frame["method"])
    curves = {
        m: np.asarray(frame.set_index("method").loc[m, "deletion"])
        for m in order
        if m in set(frame["method"])
    }
    longest = max(len(c) for c in curves.values())
    k = grid_of(run.settings if run is not None else None).first(longest)
    return charts.deletion_curves(curves, title="Deletion curve of this example", x=k)


def layout(example_id: Any = None, **query: Any) -> html.Div:
    state = ExampleState.parse(query)
    number = inputs.as_int(example_id, 1)
    if number is None:
        return not_found(example_id)
    data = service()
    detail = data.example(number)
    if detail is None:
        return not_found(example_id)
    attributions = data.attributions(number)
    run = data.run(detail.run_id)
    state = within(state, detail, run)
    rationale = data.rationale(number)
    return html.Div(
        [
            *_stores(state, number),
            _walk(state, run, number),
            html.H2(f"Example {number}", className="page-title"),
            button.export_button(),
            run_provenance(run),
            html.Div(
                [example_tokens.text_panel(detail), _summary(detail)], className="example-top"
            ),
            _controls(state, detail, run),
            example_tokens.controls(state, list(attributions)),
            plausibility_panels.rationale_note(rationale),
            example_tokens.section(
                example_tokens.tracks(detail, attributions, state, _marked(rationale))
            ),
            _attention(number, detail),
            _topk(detail, attributions),
            dcc.Graph(figure=_deletion(number, run), id=ids.EX_DELETION),
            plausibility_panels.example_scores(
                data.example_faithfulness(number), data.example_plausibility(number)
            ),
            notes_panel.panel(number),
        ]
    )


def _marked(rationale: Any) -> np.ndarray | None:
    """The rationale track's mask: None without a rationale or with nothing left marked."""
    return rationale.mask if rationale is not None and rationale.marked else None


def _stores(state: ExampleState, number: int) -> list:
    return [
        dcc.Store(id=ids.STATE, data=state.to_search()),
        dcc.Store(id=ids.EX_ID, data=number),
        dcc.Store(id=ids.EX_TOKEN, data=state.token),
    ]


def _attention(number: int, detail: example_queries.ExampleDetail) -> html.Div:
    """The attention heatmap (or attention by layer) and the head grid, filled by the callback;
    above them, one line on what the run did not store (``--attention-rows``), if anything."""
    rows, _ = service().attention(number)
    note = example.stored_layers(rows, detail.num_layers).note
    graphs = html.Div(
        [dcc.Graph(id=ids.EX_HEATMAP), dcc.Graph(id=ids.EX_HEADGRID)], className="two-col"
    )
    if note is None:
        return graphs
    return html.Div([html.P(note, id=ids.EX_ATTENTION_NOTE, className="notice"), graphs])


def _topk(detail: example_queries.ExampleDetail, attributions: dict) -> dcc.Graph:
    keep = ~np.asarray(detail.special_mask, dtype=bool)
    topk = {m: np.where(keep, s, 0.0) for m, s in attributions.items()}
    return dcc.Graph(figure=example.topk_bars(topk, detail.tokens), id=ids.EX_TOPK)


def _state(search, specials, layer, head, ref, token, density) -> ExampleState:
    """The example page's controls -> state (the filter part from the page's query string);
    ``view`` and ``methods`` depend on the example and are set by the caller."""
    references = vocabulary.reference_method_ids()
    return ExampleState.parse(inputs.as_search(search)).with_(
        density=inputs.as_choice(density, DENSITIES, DENSITIES[0]),
        specials=bool(inputs.as_list(specials)),
        layer=inputs.as_int(layer),  # the "mean" option (-1) is out of range: None
        head=inputs.as_int(head),
        ref=inputs.as_choice(ref, references, vocabulary.default_reference()),
        token=inputs.as_int(token),
    )


def heatmap_for(detail: example_queries.ExampleDetail, state: ExampleState, keep: np.ndarray):
    """The token x token heatmap for the chosen layer/head (mean when None); the prediction
    position's rows when the full tensor was not stored (long examples)."""
    rows, full = service().attention(detail.id, state.stack)
    # --attention-rows cuts the main stack; an encoder-decoder's other stacks keep every layer
    num_layers = (
        detail.num_layers if state.stack == vocabulary.MAIN_STACK or rows is None else rows.shape[0]
    )
    layers = example.stored_layers(rows, num_layers)
    if rows is None or layers.count == 0:  # --attention-rows none
        return charts.empty_figure(layers.note or "")
    if full is None:  # long example: the prediction position's row of every stored layer
        return attention_rows.prediction_rows(
            rows,
            detail.tokens,
            keep,
            state.layer,
            state.head,
            state.token,
            layers.first,
            layers.note,
        )
    return example.stored_attention_view(
        rows, full, num_layers, detail.tokens, keep, state.layer, state.head, state.token
    )


def update_example(
    example_id,
    search,
    view,
    specials,
    layer,
    head,
    ref,
    token,
    methods=None,
    density=None,
    stack=None,
):
    """Controls -> tracks (HTML), heatmap, head grid, canonical query string."""
    number = inputs.as_int(example_id, 1)
    if number is None:
        raise PreventUpdate
    data = service()
    detail = data.example(number)
    if detail is None:
        raise PreventUpdate  # the page already shows "not found"
    attributions, grids = data.attributions(detail.id), data.head_scores(detail.id)
    state = _state(search, specials, layer, head, ref, token, density)
    state = state.with_(stack=inputs.as_choice(stack, vocabulary.STACKS, state.stack))
    state = within(state, detail, data.run(detail.run_id))
    state = state.with_(
        view=example_tokens.canonical_view(view, len(detail.tokens)),
        methods=example_tokens.canonical_methods(methods, list(attributions)),
    )
    rows = example_tokens.tracks(detail, attributions, state, _marked(data.rationale(detail.id)))
    special = np.asarray(detail.special_mask, dtype=bool)
    keep = np.ones_like(special) if state.specials else ~special
    heatmap = heatmap_for(detail, state, keep)
    grid = grids.get(vocabulary.stack_reference(state.ref, state.stack))
    selected = (state.layer, state.head) if None not in (state.layer, state.head) else None
    heads_of = "" if state.stack == vocabulary.MAIN_STACK else f"{state.stack} "
    grid_fig = (
        charts.head_grid(
            grid,
            f"{heads_of}Head ρ with {state.ref} (click a head)",
            f"Spearman ρ with {state.ref}",
            selected,
        )
        if grid is not None
        else charts.empty_figure("no head scores")
    )
    return rows, heatmap, grid_fig, state.to_search()


def stack_options(example_id: Any, stack: Any):
    """The layer and head dropdown options of the picked stack's shape."""
    number = inputs.as_int(example_id, 1)
    detail = service().example(number) if number is not None else None
    if detail is None:
        raise PreventUpdate
    run = service().run(detail.run_id)
    chosen = stack_picker.stack_for(run, inputs.as_choice(stack, vocabulary.STACKS, ""))
    shape = run.shape_of(chosen) if run else (detail.num_layers, detail.num_heads)
    return stack_picker.layer_head_options(*shape)


def pick_head(click: Any):
    """A click on the head grid -> (layer, head) dropdown values."""
    cell = inputs.clicked_cell(click)
    if cell is None:
        return no_update, no_update
    return cell


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.EX_TRACKS, "data"),
        Output(ids.EX_HEATMAP, "figure"),
        Output(ids.EX_HEADGRID, "figure"),
        Output(ids.STATE, "data", allow_duplicate=True),
        Input(ids.EX_ID, "data"),
        State(ids.STATE, "data"),
        Input(ids.EX_VIEW, "value"),
        Input(ids.EX_SPECIALS, "value"),
        Input(ids.EX_LAYER, "value"),
        Input(ids.EX_HEAD, "value"),
        Input(ids.EX_REF, "value"),
        Input(ids.EX_TOKEN, "data"),
        Input(ids.EX_METHODS, "value"),
        Input(ids.EX_DENSITY, "value"),
        Input(ids.EX_STACK, "value"),
        prevent_initial_call="initial_duplicate",
    )(update_example)
    app.callback(
        Output(ids.EX_LAYER, "options"),
        Output(ids.EX_HEAD, "options"),
        Input(ids.EX_ID, "data"),
        Input(ids.EX_STACK, "value"),
        prevent_initial_call=True,
    )(stack_options)
    app.callback(
        Output(ids.EX_LAYER, "value"),
        Output(ids.EX_HEAD, "value"),
        Input(ids.EX_HEADGRID, "clickData"),
        prevent_initial_call=True,
    )(pick_head)
    button.register_callbacks(app)
    example_tokens.register_callbacks(app)


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__, path_template="/example/<example_id>", title="Attention Atlas: example", layout=layout
)

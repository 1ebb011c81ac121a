"""Faithfulness page ``/faithfulness``: deletion curves, ERASER scores and the consistency test
per method over the current filter.

Two views of the deletion curves (``view`` in the URL): ``probability``, the mean probability
of the predicted class after deleting the top-k tokens (per-run cached stack, numpy over the
filtered ids), and ``accuracy``, Karpekov & Miller's share of the originally correct examples
still classified correctly, relative to k = 0, with the bottom-k strategy dashed for signed
methods (``dashboard.data.accuracy``). Comprehensiveness / sufficiency means come from the cached
stack too; AOPC is the mean drop of the deletion curve, mean over k = 1..20 of (p_0 - p_k).
Both views plot against ``x`` in the URL: k, the run's deletion grid (every k to 20, then
log-spaced to half the content tokens; runs stored before it stop at 20), or the deleted
fraction of each example's content tokens (``db.analysis.deletion_axes``).
The consistency test (Liu et al. 2021) is the silhouette of the classes' clusters of each
method's top-5 vectors, with the 2-D projection of one method (``method`` in the URL).
"""

from __future__ import annotations

import warnings
from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html

from attention_atlas.dashboard import ids, inputs, plausibility_panels
from attention_atlas.dashboard.data import accuracy
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.figures import accuracy_curves, charts
from attention_atlas.dashboard.provenance import run_provenance
from attention_atlas.dashboard.urlstate import (
    DELETION_AXES,
    FAITHFULNESS_AXES,
    FAITHFULNESS_VIEWS,
    FaithfulnessState,
)
from attention_atlas.db import queries, stacks
from attention_atlas.db.analysis import consistency, deletion_axes
from attention_atlas.models import vocabulary

AOPC_MAX_K = 20  # AOPC over k = 1..20, the dense part of every run's grid
NOT_STORED = (
    "This run was ingested before accuracy and bottom-k curves were stored (revision 0003): "
    "re-ingest it into a new run to see them."
)


def faithfulness_view(state: FaithfulnessState, run: queries.RunInfo | None):
    """(probability figure, table DataFrame) over the current filter of ``run``."""
    data = service()
    if run is None:
        return charts.empty_figure("no run"), pd.DataFrame()
    f = state.corpus.to_filter(run.id)
    stack = data.faithfulness(run)
    rows = stacks.rows_of(stack.ids, data.ids(run, f, "id", False))
    if not rows.any():
        return charts.empty_figure("no faithfulness rows match the filter"), pd.DataFrame()
    subset = stack.deletion[rows]  # [N, M, G]
    on_axis = subset
    if state.x == "fraction":
        on_axis = deletion_axes.on_axis(subset, stack.k, stack.content[rows], "fraction")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a point no example reaches: NaN
        mean = np.nanmean(on_axis, axis=0)
        spread = np.nanstd(on_axis, axis=0) / np.sqrt(max(len(subset), 1))  # standard error
        aopc = _aopc(subset, stack.k)
    fig = charts.deletion_curves(
        {m: mean[i] for i, m in enumerate(stack.methods)},
        {m: spread[i] for i, m in enumerate(stack.methods)},
        f"Mean deletion curves over {len(subset)} examples (band: ± 1 standard error)",
        x=deletion_axes.x_values(state.x, stack.k),
        axis=state.x,
    )
    table = data.faithfulness_table(run, f)  # means over the cached per-run stack
    table["aopc"] = table["method"].map(dict(zip(stack.methods, aopc.astype(float), strict=True)))
    order = {m: i for i, m in enumerate(stack.methods)}
    table = table.astype({"aopc": float}).sort_values("method", key=lambda s: s.map(order)).round(4)
    return fig, table


def _aopc(curves: np.ndarray, k: np.ndarray) -> np.ndarray:
    """[M] mean over examples and k = 1..20 of (p_0 - p_k): the dense part of the grid, which
    every run has, so runs stored before and after the grid compare."""
    dense = np.flatnonzero((k >= 1) & (k <= AOPC_MAX_K))
    return np.nanmean(curves[:, :, :1] - curves[:, :, dense], axis=(0, 2))


def accuracy_view(state: FaithfulnessState, run: queries.RunInfo | None):
    """(accuracy figure, note) over the originally correct examples of the filter."""
    if run is None:
        return charts.empty_figure("no run"), ""
    result = accuracy.accuracy_curves(run, state.corpus.to_filter(run.id), state.x)
    if not service().curve_stack(run).stored:
        return charts.empty_figure("accuracy curves not stored for this run"), NOT_STORED
    if result.n == 0:
        return charts.empty_figure("no correctly classified examples match the filter"), ""
    title = f"Relative accuracy over {result.n} originally correct examples"
    lines = accuracy_curves.accuracy_lines(result.top, result.bottom, x=result.x, axis=state.x)
    fig = accuracy_curves.accuracy_figure(lines, title, state.x)
    return fig, ACCURACY_NOTE + (FRACTION_NOTE if state.x == "fraction" else K_NOTE)


ACCURACY_NOTE = (
    "Solid: the method's top-k tokens deleted; dashed: its bottom-k (the tokens pushing "
    "most toward another class), signed methods only; dotted: random order. "
)
K_NOTE = (
    "An example with fewer than k content tokens counts as with all of them deleted; one whose "
    "curve stops at half its tokens counts up to there."
)
FRACTION_NOTE = (
    "Each example is read at k = fraction x its content tokens, linearly between the stored k, "
    "up to the fraction every example reaches (50%; runs stored before the deletion grid stop "
    "at k = 20, so at 20 / n of their longest text)."
)


def curves_figure(state: FaithfulnessState, run: queries.RunInfo | None):
    """(figure, note) of the view ``state.view``."""
    if state.view == "accuracy":
        return accuracy_view(state, run)
    fig, _ = faithfulness_view(state, run)
    return fig, ""


def consistency_rows(state: FaithfulnessState, run: queries.RunInfo | None) -> list:
    """(method, correct examples, silhouette, examples scored, subsampled) per method with
    stored top-5 vectors."""
    if run is None:
        return []
    f = state.corpus.to_filter(run.id)
    rows = []
    for method in service().vector_methods(run):
        result = accuracy.method_consistency(run, f, method)
        if result is not None:
            scored = len(result.ids)
            rows.append((method, result.n, result.silhouette, scored, result.subsampled))
    return rows


def scatter_view(state: FaithfulnessState, run: queries.RunInfo | None):
    """(figure, note) of the consistency projection of ``state.method``."""
    methods = service().vector_methods(run) if run is not None else []
    if not methods:
        message = "top-5 vectors not stored for this run" if run is not None else "no run"
        return charts.empty_figure(message), NOT_STORED if run is not None else ""
    method = state.method if state.method in methods else methods[0]
    result = accuracy.method_consistency(run, state.corpus.to_filter(run.id), method)
    if result is None or not len(result.ids):
        return charts.empty_figure("no correctly classified examples match the filter"), ""
    score = "undefined" if result.silhouette is None else f"{result.silhouette:.3f}"
    title = f"{vocabulary.label_of(method)}: top-5 vectors, silhouette {score}"
    fig = accuracy_curves.consistency_scatter(
        result.xy, result.labels, result.ids, run.label_names, title
    )
    note = f"{len(result.ids)} of {result.n} correctly classified examples"
    if result.subsampled:
        note += f" (a fixed-seed subsample: above {consistency.MAX_POINTS} the test samples)"
    return fig, note


def _consistency_table(rows: list) -> html.Table:
    """One row per method; the last column says how many examples the silhouette scored (all
    the correct ones, or a seeded subsample of them), so it is never blank."""
    header = ["method", "correct examples", "silhouette ↑", "examples scored"]
    body = [
        html.Tr(
            [
                html.Td(vocabulary.label_of(method)),
                html.Td(n),
                html.Td("—" if score is None else f"{score:.3f}"),
                html.Td(f"{scored} (seeded subsample)" if sub else f"{scored} (all)"),
            ]
        )
        for method, n, score, scored, sub in rows
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)],
        id=ids.FA_CONSISTENCY,
        className="score-table",
    )


def _controls(state: FaithfulnessState, run: queries.RunInfo | None) -> html.Div:
    methods = service().vector_methods(run) if run is not None else []
    axes = [{"label": AXIS_LABELS[a], "value": a} for a in DELETION_AXES]
    return html.Div(
        [
            html.Label("deletion curves"),
            dcc.RadioItems(list(FAITHFULNESS_VIEWS), state.view, id=ids.FA_VIEW, inline=True),
            html.Label("against"),
            dcc.RadioItems(axes, state.x, id=ids.FA_AXIS, inline=True),
            html.Label("consistency scatter"),
            dcc.RadioItems(
                [{"label": vocabulary.label_of(m), "value": m} for m in methods],
                state.method if state.method in methods else (methods[0] if methods else None),
                id=ids.FA_METHOD,
                inline=True,
            ),
        ],
        className="example-controls",
    )


AXIS_LABELS = {"k": "tokens deleted", "fraction": "fraction deleted"}


def layout(**query: Any) -> html.Div:
    state = FaithfulnessState.parse(query)
    run = service().run(state.corpus.run)
    _, table = faithfulness_view(state, run)
    header = ["method", "examples", "comprehensiveness ↑", "sufficiency ↓", "AOPC (deletion) ↑"]
    body = [html.Tr([html.Td(v) for v in row]) for row in table.itertuples(index=False)]
    return html.Div(
        [
            dcc.Store(id=ids.STATE, data=state.to_search()),
            html.H2("Faithfulness over the current filter", className="page-title"),
            run_provenance(run),
            _controls(state, run),
            dcc.Graph(id=ids.FA_CURVES),
            html.P(id=ids.FA_CURVES_NOTE, className="muted"),
            html.Table(
                [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)],
                id=ids.FA_TABLE,
                className="score-table",
            ),
            html.P(
                "'random' deletes tokens in a seeded random order: a method is faithful "
                "to the extent its curve falls faster than random.",
                className="muted",
            ),
            _plausibility(state, run),
            html.H3("Consistency test (Liu et al. 2021)"),
            html.P(
                "Per correctly classified example, the mean last-layer hidden vector of the "
                "method's top-5 tokens; the silhouette of the classes' clusters says whether "
                "those tokens carry the class (1 separated, 0 overlapping).",
                className="muted",
            ),
            _consistency_table(consistency_rows(state, run)),
            dcc.Graph(id=ids.FA_SCATTER),
            html.P(id=ids.FA_SCATTER_NOTE, className="muted"),
        ]
    )


def _plausibility(state: FaithfulnessState, run: queries.RunInfo | None) -> html.Div | None:
    """The plausibility view, for a run stored with rationales only."""
    data = service()
    if run is None or not data.has_plausibility(run):
        return None
    summary = data.plausibility_summary(run, state.corpus.to_filter(run.id))
    return plausibility_panels.faithfulness_section(state, summary)


def update_plausibility(measure: Any, axis: Any, search: Any):
    """The plausibility view's controls -> its plot, its table and the URL state."""
    state = FaithfulnessState.parse(inputs.as_search(search))
    corpus = state.corpus.with_(
        pmeasure=inputs.as_choice(measure, tuple(vocabulary.PLAUSIBILITY), state.corpus.pmeasure)
    )
    state = state.with_(
        corpus=corpus, pfaith=inputs.as_choice(axis, FAITHFULNESS_AXES, state.pfaith)
    )
    data = service()
    run = data.run(state.corpus.run)
    if run is None or not data.has_plausibility(run):
        return charts.empty_figure("no rationales in this run"), [], state.to_search()
    summary = data.plausibility_summary(run, state.corpus.to_filter(run.id))
    table = plausibility_panels.plausibility_table(summary).children
    return plausibility_panels.plausibility_figure(summary, state), table, state.to_search()


def update_faithfulness(view: Any, method: Any, search: Any, axis: Any = None):
    """The view, x axis and scatter method controls -> the curves, the scatter and the URL
    state."""
    state = FaithfulnessState.parse(inputs.as_search(search))
    state = state.with_(
        view=inputs.as_choice(view, FAITHFULNESS_VIEWS, state.view),
        x=inputs.as_choice(axis, DELETION_AXES, state.x),
        method=inputs.as_choice(method, vocabulary.method_ids(), state.method),
    )
    run = service().run(state.corpus.run)
    fig, note = curves_figure(state, run)
    scatter, scatter_note = scatter_view(state, run)
    return fig, note, scatter, scatter_note, state.to_search()


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.FA_CURVES, "figure"),
        Output(ids.FA_CURVES_NOTE, "children"),
        Output(ids.FA_SCATTER, "figure"),
        Output(ids.FA_SCATTER_NOTE, "children"),
        Output(ids.STATE, "data", allow_duplicate=True),
        Input(ids.FA_VIEW, "value"),
        Input(ids.FA_METHOD, "value"),
        State(ids.STATE, "data"),
        Input(ids.FA_AXIS, "value"),
        prevent_initial_call="initial_duplicate",
    )(update_faithfulness)
    app.callback(
        Output(ids.FA_PLAUS_FIG, "figure"),
        Output(ids.FA_PLAUS_TABLE, "children"),
        Output(ids.STATE, "data", allow_duplicate=True),
        Input(ids.FA_PMEASURE, "value"),
        Input(ids.FA_PFAITH, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )(update_plausibility)


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__,
    path="/faithfulness",
    title="Attention Atlas: faithfulness",
    name="Faithfulness",
    nav=3,
    layout=layout,
)

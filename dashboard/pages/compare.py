"""Compare page ``/compare?a=..&b=..``: two runs over the examples they share.

Per method present in both runs: the distribution over examples of the similarity between run
A's and run B's maps (Spearman on |scores| and signed, top-5 overlap; ``db.compare``), with the
examples that differ most one click away (either run's example page, or both runs' token rows
stacked at ``/compare/example``). When B is A's checkpoint with randomized weights the page reads
as the model-randomization sanity check (Adebayo et al. 2018). Below: method-pair agreement of
A, B and A − B, head grids A, B and A − B, both runs' deletion curves and relative accuracy
curves (Karpekov & Miller's chart 4, from the stored curves), accuracy and confidence.
"""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import Input, Output, State, dcc, html

from attention_atlas.dashboard import ids, inputs, urls
from attention_atlas.dashboard.components import reference_choices
from attention_atlas.dashboard.data import heads as head_data
from attention_atlas.dashboard.data.compare import (
    Comparison,
    accuracy_confidence,
    accuracy_curves_over,
    agreement_means,
    comparison,
    deletion_means,
    head_grid_mean,
    sanity_kind,
)
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.figures import accuracy_curves, charts, compare
from attention_atlas.dashboard.provenance import summary_parts
from attention_atlas.dashboard.urlstate import CompareExampleState, CompareState
from attention_atlas.db.compare import SIMILARITIES
from attention_atlas.db.queries import RunInfo
from attention_atlas.models import vocabulary

WORST = 10  # most different examples listed
READING_GUIDE = (
    "A method whose maps barely change when the model's weights are randomized is not "
    "explaining the model: high similarity to the trained model's maps fails the check, "
    "similarity near 0 passes it."
)


def load(state: CompareState) -> Comparison | str:
    """The comparison ``state`` names, or why there is none (a message, never an error)."""
    if state.a is None or state.b is None:
        return "Pick two runs: /compare?a=<run id>&b=<run id> (ids from `attention-atlas runs`)."
    data = service()
    runs = {key: data.run(getattr(state, key)) for key in ("a", "b")}
    unknown = [f"{key} = {getattr(state, key)}" for key, run in runs.items() if run is None]
    if unknown:
        return f"No run with id {', '.join(unknown)} in this database."
    found = comparison(data, state, runs["a"], runs["b"])
    if not len(found.shared):
        return (
            f"Runs {state.a} and {state.b} share no examples: shared means the same dataset "
            "and source index, and these runs read different corpora (or nothing yet)."
        )
    return found


def _run_line(key: str, run: RunInfo) -> html.Li:
    parts = " · ".join(summary_parts(run.settings))
    return html.Li(
        [
            html.B(f"Run {key.upper()}: "),
            f"{run.name} (id {run.id}; {run.checkpoint} on {run.dataset}; "
            f"{run.n_examples} examples) ",
            html.Span(parts, className="muted"),
        ]
    )


def _header(found: Comparison) -> list:
    n_kept, n_shared = int(found.keep.sum()), len(found.shared)
    counts = f"{n_shared} shared examples (same dataset and source index)"
    if n_kept != n_shared:
        counts += f"; {n_kept} pass the corpus filter (applied to run A)"
    words = int(found.sim.by_words[found.keep].sum())
    if words:
        counts += f"; {words} compared per word (the runs tokenize them differently)"
    kind = sanity_kind(found.a, found.b)
    out = [html.Ul([_run_line("a", found.a), _run_line("b", found.b)]), html.P(counts)]
    if kind:
        out.insert(
            0,
            html.P(
                [html.B("Sanity check: "), f"run B is run A's checkpoint with {kind}. "]
                + [READING_GUIDE],
                id=ids.CP_SANITY,
                className="sanity-banner",
            ),
        )
    return out


def medians_table(found: Comparison) -> html.Table:
    """Per method: median of each similarity over the kept shared examples."""
    values = found.sim.values[found.keep]
    rows = []
    for j, method in enumerate(found.sim.methods):
        cells = [html.Td(vocabulary.label_of(method))]
        for k in range(len(SIMILARITIES)):
            column = values[:, j, k]
            column = column[~np.isnan(column)]
            cells.append(html.Td(f"{np.median(column):.3f}" if column.size else "—"))
        cells.append(html.Td(int((~np.isnan(values[:, j, 0])).sum())))
        rows.append(html.Tr(cells))
    head = ["method", *(f"median {label}" for label in SIMILARITIES.values()), "examples"]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        id=ids.CP_MEDIANS,
        className="score-table",
    )


def worst_examples(state: CompareState, found: Comparison, method: str) -> html.Div:
    """The shared examples where run A's and run B's ``method`` maps differ most."""
    if method not in found.sim.methods:
        return html.P("No method is shared by both runs.", className="muted")
    values = found.sim.measure(state.sim)[found.keep, found.sim.methods.index(method)]
    source, ids_a, ids_b = (x[found.keep] for x in (found.shared.source, found.ids_a, found.ids_b))
    defined = np.flatnonzero(~np.isnan(values))
    order = defined[np.argsort(values[defined], kind="stable")][:WORST]
    search = state.corpus.to_search()
    items = []
    for rank, row in enumerate(order.tolist()):
        side = CompareExampleState(
            a=found.a.id, b=found.b.id, source=int(source[row]), corpus=state.corpus
        )
        items.append(
            html.Li(
                [
                    dcc.Link(
                        f"source {int(source[row])}: {values[row]:.3f}",
                        href=urls.page("compare_example", side.to_search()),
                        id={"type": ids.CP_SIDE_LINK, "rank": rank},
                    ),
                    " · ",
                    dcc.Link("run A", href=urls.example(int(ids_a[row]), search)),
                    " · ",
                    dcc.Link("run B", href=urls.example(int(ids_b[row]), search)),
                ]
            )
        )
    title = f"Most different {method} maps ({SIMILARITIES[state.sim]}, lowest first)"
    return html.Div([html.H3(title), html.Ol(items) if items else html.P("none defined")])


def _agreement_figure(state: CompareState, found: Comparison) -> dict:
    data, methods, measure = service(), found.sim.methods, state.corpus.measure
    a = agreement_means(data, found.a, found.ids_a, methods, measure)
    b = agreement_means(data, found.b, found.ids_b, methods, measure)
    labels = [vocabulary.label_of(m) for m in methods]
    return compare.heatmap_trio(
        (a, b, a - b),
        ("run A", "run B", "A − B"),
        (labels, labels, "", ""),
        title=f"Mean agreement between methods ({vocabulary.MEASURES[measure]})",
    )


def heads_figure(state: CompareState, found: Comparison) -> dict:
    data = service()
    a = head_grid_mean(data, found.a, found.ids_a, state.ref)
    b = head_grid_mean(data, found.b, found.ids_b, state.ref)
    if a is None or b is None:
        return charts.empty_figure(f"no head grids with {state.ref} in both runs")
    diff = a - b if a.shape == b.shape else None
    layers = max(a.shape[0], b.shape[0])
    heads = max(a.shape[1], b.shape[1])
    return compare.heatmap_trio(
        (a, b, diff),
        ("run A", "run B", "A − B"),
        (list(range(heads)), list(range(layers)), "head", "layer"),
        title=f"Mean Spearman ρ of each head's attention with {state.ref}",
    )


def importance_grids(state: CompareState, found: Comparison | str | None = None) -> list:
    """Both runs' mean gate-gradient head importance over the shared filtered examples, on one
    colour scale (a randomized model's heads should not keep the trained one's importance)."""
    found = load(state) if found is None else found
    if isinstance(found, str):
        return []
    data = service()
    grids = [
        head_data.mean_importance(data, found.a, found.ids_a),
        head_data.mean_importance(data, found.b, found.ids_b),
    ]
    if any(g is None for g in grids):
        return [charts.empty_figure("no head importance stored in both runs")]
    top = max(float(np.nanmax(g)) for g in grids if g is not None)
    label = vocabulary.HEAD_IMPORTANCE["gradient"]
    figures = []
    for name, grid in zip(("run A", "run B"), grids, strict=True):
        assert grid is not None
        figure = charts.head_grid(grid, f"{name}: head importance", label, signed=False)
        figure["data"][0]["zmax"] = max(top, 1e-9)
        figures.append(figure)
    return figures


def accuracy_figure(found: Comparison) -> dict:
    """Both runs' relative accuracy curves on one plot (Karpekov & Miller's chart 4): run A
    full colour, run B faded with crosses."""
    data, traces, counts = service(), [], []
    for key, run, chosen in (("A", found.a, found.ids_a), ("B", found.b, found.ids_b)):
        result = accuracy_curves_over(data, run, chosen)
        lines = accuracy_curves.accuracy_lines(result.top, result.bottom, f" ({key})", result.x)
        if key == "B":
            for line in lines:
                line.update(opacity=0.55, marker={"symbol": "x", "size": 8})
        traces += lines
        counts.append(f"{key}: {result.n}")
    if not traces:
        return charts.empty_figure("no accuracy curves stored for these runs")
    title = (
        f"Relative accuracy after deleting k tokens (originally correct examples, "
        f"{', '.join(counts)}); run B faded"
    )
    return accuracy_curves.accuracy_figure(traces, title)


def _outcomes(found: Comparison) -> html.Table:
    data = service()
    rows = []
    for key, run, chosen in (("A", found.a, found.ids_a), ("B", found.b, found.ids_b)):
        accuracy, confidence = accuracy_confidence(data, run, chosen)
        shown = "—" if np.isnan(accuracy) else f"{accuracy:.1%}"
        rows.append(html.Tr([html.Td(f"run {key}"), html.Td(shown), html.Td(f"{confidence:.3f}")]))
    head = ["", "accuracy", "mean confidence"]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        id=ids.CP_OUTCOMES,
        className="score-table",
    )


def chosen_method(state: CompareState, found: Comparison) -> str | None:
    if state.method in found.sim.methods:
        return state.method
    return found.sim.methods[0] if found.sim.methods else None


def _controls(state: CompareState, found: Comparison) -> html.Div:
    return html.Div(
        [
            html.Label("method"),
            dcc.Dropdown(
                found.sim.methods,
                chosen_method(state, found),
                id=ids.CP_METHOD,
                clearable=False,
                className="small-dropdown",
            ),
            html.Label("similarity"),
            dcc.RadioItems(
                [{"label": v, "value": k} for k, v in SIMILARITIES.items()],
                state.sim,
                id=ids.CP_SIM,
                inline=True,
            ),
        ],
        className="example-controls",
    )


def view(state: CompareState, found: Comparison | str | None = None) -> tuple[Any, Any, Any]:
    """(distribution figure, most-different list, head grids figure) of ``state`` (``found``:
    its comparison when already loaded)."""
    found = load(state) if found is None else found
    if isinstance(found, str):
        empty = charts.empty_figure(found)
        return empty, html.P(found), empty
    values = found.sim.measure(state.sim)[found.keep]
    source = found.shared.source[found.keep]
    methods = found.sim.methods
    dist = compare.similarity_distribution(values, methods, source, SIMILARITIES[state.sim])
    method = chosen_method(state, found)
    return dist, worst_examples(state, found, method), heads_figure(state, found)


def layout(**query: Any) -> html.Div:
    state = CompareState.parse(query)
    found = load(state)
    title = html.H2("Compare two runs", className="page-title")
    if isinstance(found, str):
        return html.Div([title, html.P(found, id=ids.CP_MESSAGE, className="not-found")])
    dist, worst, heads = view(state, found)
    deletion = compare.deletion_overlay(
        deletion_means(service(), found.a, found.ids_a),
        deletion_means(service(), found.b, found.ids_b),
        (service().faithfulness(found.a).k, service().faithfulness(found.b).k),
    )
    return html.Div(
        [
            dcc.Store(id=ids.STATE, data=state.to_search()),
            title,
            *_header(found),
            medians_table(found),
            _controls(state, found),
            dcc.Graph(figure=dist, id=ids.CP_DIST),
            html.Div(worst, id=ids.CP_WORST),
            dcc.Graph(figure=_agreement_figure(state, found), id=ids.CP_AGREEMENT),
            html.Div(
                [
                    html.Label("head grid reference"),
                    dcc.RadioItems(
                        reference_choices(_common(found.a.methods, found.b.methods), state.ref),
                        state.ref,
                        id=ids.CP_REF,
                        inline=True,
                    ),
                ],
                className="example-controls",
            ),
            dcc.Graph(figure=heads, id=ids.CP_HEADS),
            html.Div(
                [dcc.Graph(figure=f) for f in importance_grids(state, found)], className="two-col"
            ),
            dcc.Graph(figure=deletion, id=ids.CP_DELETION),
            dcc.Graph(figure=accuracy_figure(found), id=ids.CP_ACCURACY),
            _outcomes(found),
        ]
    )


def _common(a: list[str], b: list[str]) -> list[str]:
    """Methods both runs computed (the head grids the A - B difference can use)."""
    return [m for m in a if m in b]


def update_compare(method: Any, sim: Any, ref: Any, search: Any):
    """Method, similarity or head reference changed -> the views they drive and the URL."""
    state = CompareState.parse(inputs.as_search(search))
    state = state.with_(
        method=inputs.as_choice(method, vocabulary.method_ids(), state.method),
        sim=inputs.as_choice(sim, tuple(SIMILARITIES), state.sim),
        ref=inputs.as_choice(ref, vocabulary.reference_method_ids(), state.ref),
    )
    dist, worst, heads = view(state)
    return dist, worst, heads, state.to_search()


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.CP_DIST, "figure"),
        Output(ids.CP_WORST, "children"),
        Output(ids.CP_HEADS, "figure"),
        Output(ids.STATE, "data", allow_duplicate=True),
        Input(ids.CP_METHOD, "value"),
        Input(ids.CP_SIM, "value"),
        Input(ids.CP_REF, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )(update_compare)


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__,
    path="/compare",
    title="Attention Atlas: compare runs",
    name="Compare",
    nav=5,
    layout=layout,
)

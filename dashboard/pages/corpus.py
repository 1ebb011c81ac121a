"""Corpus page ``/``: filter a run's examples, see where two methods agree, open an example.

Filters, counting, sorting and paging run in the data service (numpy over the run's cached
columns, SQL for one page's rows); this module only turns control values into a
:class:`CorpusState` and results into components.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from attention_atlas.dashboard import corpus_layout, ids, inputs, plausibility_panels, urls
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.figures import charts
from attention_atlas.dashboard.provenance import run_provenance
from attention_atlas.dashboard.urlstate import CorpusState
from attention_atlas.db import queries

PAGE_SIZE = 50
FILTER_INPUTS = [
    (ids.RUN, "run"),
    (ids.LABEL, "label"),
    (ids.PRED, "pred"),
    (ids.CORRECT, "correct"),
    (ids.LENGTH_MIN, "minlen"),
    (ids.LENGTH_MAX, "maxlen"),
    (ids.SEARCH, "q"),
    (ids.PAIR, "pair"),
    (ids.YPAIR, "ypair"),
    (ids.MEASURE, "measure"),
    (ids.AGREE, "agree"),
    (ids.DISAGREE, "disagree"),
    (ids.BAND, "band"),
    (ids.SORT, "sort"),
    (ids.DESC, "desc"),
    (ids.PAGE, "page"),
    (ids.TAG, "tag"),
    (ids.COLOR, "color"),
    (ids.CO_PMEASURE, "pmeasure"),
    (ids.CO_PMIN, "pmin"),
    (ids.CO_PMAX, "pmax"),
    (ids.CO_PMETHOD, "pmethod"),
    (ids.SHARE_METHOD, "share"),
    (ids.SHARE_SEGMENT, "seg"),
    (ids.SHARE_MIN, "minshare"),
    (ids.SHARE_MAX, "maxshare"),
]
PAGING_IDS = {ids.PAGE, ids.SORT, ids.DESC}


def state_from_controls(values: list[Any], selection: Any) -> CorpusState:
    """Control values (in :data:`FILTER_INPUTS` order) -> state, through the URL codec so a
    bad value becomes the default exactly as in a URL."""
    query: dict[str, str] = {}
    for (_, key), value in zip(FILTER_INPUTS, values, strict=True):
        text = ("1" if value else "") if key == "desc" else inputs.as_text(value)
        if text is not None:
            query[key] = text
    chosen = inputs.as_dict(selection)
    for key in ("box", "ids"):
        text = inputs.as_text(inputs.as_list(chosen.get(key)))
        if text:
            query[key] = text
    return CorpusState.parse(query)


def selection_from_event(selected: Any) -> dict | None:
    """Plotly ``selectedData`` -> {"box": [x0, x1, y0, y1]} or {"ids": [...]} (lasso)."""
    box = inputs.selected_box(selected)
    if box is not None:
        return {"box": [round(v, 4) for v in box]}
    chosen = inputs.selected_ids(selected)
    return {"ids": chosen} if chosen else None


def corpus_view(state: CorpusState) -> dict[str, Any]:
    """Everything the table part of the page shows, for ``state`` (used by the callback and
    the benchmark): rows, counts, page, run."""
    data = service()
    run = data.run(state.run)
    if run is None:
        return {"run": None, "rows": [], "counts": None, "page": 1, "pages": 1}
    f = state.to_filter(run.id)
    counts = data.counts(run, f)  # cached per filter: paging and sorting do not recount
    pages = max(1, -(-counts.total // PAGE_SIZE))
    page = min(state.page, pages)
    # ids from the filter's cached ordered list, then one query for this page's rows
    frame = data.page(run, f, state.sort, state.desc, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    names = run.label_names
    frame["label"] = frame["label"].map(lambda v: _name(names, v))
    frame["prediction"] = frame["prediction"].map(lambda v: _name(names, v))
    frame = frame.round({"confidence": 3, "x": 3, "y": 3, "plaus": 3, "share": 3})
    tags = data.tags_of_examples(frame["id"].tolist())  # read now: a new note's tags show
    frame["tags"] = [", ".join(tags.get(int(i), ())) for i in frame["id"]]
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {"run": run, "rows": rows, "counts": counts, "page": page, "pages": pages}


def _name(names: list[str], value: Any) -> str:
    if value is None or value != value:
        return "–"
    return names[int(value)] if 0 <= int(value) < len(names) else str(value)


def _header(run: queries.RunInfo) -> list:
    return [html.H2(f"Corpus: {run.name}", className="page-title"), run_provenance(run)]


def update_header(run_id: Any) -> list:
    """Run dropdown -> page title and the run's settings (the rest of the page follows
    through ``update_table``)."""
    run = service().run(inputs.as_int(run_id, 1))
    return _header(run) if run else []


def layout(**query: Any) -> html.Div:
    """The page for ``?query`` (unknown keys ignored, bad values -> defaults)."""
    state = CorpusState.parse(query)
    data = service()
    runs = data.runs()[::-1]  # newest first
    if not runs:
        return html.Div(
            [
                html.H2("No runs in this database yet"),
                html.P("Ingest a corpus first: attention-atlas ingest ..."),
            ]
        )
    run = data.run(state.run)
    if run is None:
        run, state = data.run(None), state.with_(run=None)
    tagged = data.tags_of_run(run)
    options = [{"label": f"{r.name} ({r.n_done})", "value": r.id} for r in runs]
    selection = (
        {"box": list(state.box)} if state.box else ({"ids": list(state.ids)} if state.ids else None)
    )
    plausible = data.has_plausibility(run)
    return html.Div(
        [
            dcc.Store(id=ids.STATE, data=state.to_search()),
            dcc.Store(id=ids.SELECTION, data=selection),
            html.Div(_header(run), id=ids.CORPUS_HEADER),
            html.Div(
                [
                    corpus_layout.controls(state, run, options, _tag_counts(tagged), plausible),
                    html.Div(
                        [
                            dcc.Graph(id=ids.SCATTER, config={"displaylogo": False}),
                            html.Button("Clear selection", id=ids.CLEAR_SELECTION, n_clicks=0),
                        ],
                        className="scatter-box",
                    ),
                ],
                className="corpus-top",
            ),
            corpus_layout.table(state, corpus_view(state)["rows"], plausible, run),
        ]
    )


def _tag_counts(tagged: dict[int, tuple[str, ...]]) -> dict[str, int]:
    """{tag: examples} from {example id: its tags}."""
    counts: dict[str, int] = {}
    for tags in tagged.values():
        for tag in tags:
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def _triggered() -> str | None:
    """The id that fired the callback; None on first load or when called outside Dash."""
    try:
        return ctx.triggered_id
    except dash.exceptions.MissingCallbackContextException:
        return None


def update_table(*args: Any) -> tuple:
    """Controls -> table rows, counts, page, canonical query string."""
    *values, selection = args
    state = state_from_controls(values, selection)
    if _triggered() is not None and _triggered() not in PAGING_IDS:
        state = state.with_(page=1)  # a new filter starts at the first page
    view = corpus_view(state)
    counts = view["counts"]
    if counts is None:
        return [], "no run", "", 1, state.to_search()
    state = state.with_(page=view["page"])
    text = (
        f"{counts.total} examples shown · agree {counts.agree} · in between "
        f"{counts.between} · disagree {counts.disagree}"
    )
    info = f"of {view['pages']}"
    return view["rows"], text, info, view["page"], state.to_search()


def update_scatter(*args: Any):
    *values, selection = args
    state = state_from_controls(values, selection)
    data = service()
    run = data.run(state.run)
    if run is None:
        return charts.empty_figure("no run")
    points = data.scatter_points(run, state.to_filter(run.id))  # numpy over cached columns
    if state.color == "tag":
        tagged = data.tags_of_run(run)
        points["tag"] = [", ".join(tagged.get(int(i), ())) for i in points["id"]]
    return charts.agreement_scatter(
        points,
        charts.pair_label(state.pair, state.measure),
        charts.pair_label(state.ypair, state.measure),
        state.agree,
        state.disagree,
        state.box,
    )


def show_plausibility(run_id: Any) -> tuple:
    """Run dropdown -> the plausibility fields shown (or hidden), the table's columns and
    the sentence-pair share fields shown (or hidden)."""
    data = service()
    run = data.run(inputs.as_int(run_id, 1))
    plausible = data.has_plausibility(run)
    style = None if plausible else plausibility_panels.HIDDEN
    columns = corpus_layout.columns(CorpusState(), run, plausible)
    return style, columns, corpus_layout.share_style(run)


def update_selection(selected: Any, _clear: Any) -> dict | None:
    if _triggered() == ids.CLEAR_SELECTION:
        return None
    return selection_from_event(selected)


def open_example(cell: Any, rows: Any, search: Any):
    """A table click -> ``/example/<id>`` keeping the filter (for previous / next)."""
    cell, rows = inputs.as_dict(cell), inputs.as_list(rows, PAGE_SIZE)
    example_id = inputs.as_int(cell.get("rowId"), 1)
    index = inputs.as_int(cell.get("rowIndex"), 0, len(rows) - 1)
    if example_id is None and index is not None:
        example_id = inputs.as_int(inputs.as_dict(rows[index]).get("id"), 1)
    if example_id is None:
        return no_update
    return urls.example(example_id, CorpusState.parse(inputs.as_search(search)).to_search())


def download_csv(_n: Any, search: Any):
    state = CorpusState.parse(inputs.as_search(search))
    data = service()
    run = data.run(state.run)
    if run is None:
        return no_update
    frame = data.all_rows(state.to_filter(run.id), state.sort, state.desc)
    return dcc.send_data_frame(frame.to_csv, f"atlas-run{run.id}-examples.csv", index=False)


def register_callbacks(app: dash.Dash) -> None:
    inputs = [Input(cid, "value") for cid, _ in FILTER_INPUTS]
    app.callback(
        Output(ids.GRID, "rowData"),
        Output(ids.COUNTS, "children"),
        Output(ids.PAGE_INFO, "children"),
        Output(ids.PAGE, "value"),
        Output(ids.STATE, "data"),
        *inputs,
        Input(ids.SELECTION, "data"),
    )(update_table)
    scatter_inputs = [
        Input(c, "value") if c not in PAGING_IDS and c != ids.BAND else State(c, "value")
        for c, _ in FILTER_INPUTS
    ]
    app.callback(Output(ids.SCATTER, "figure"), *scatter_inputs, State(ids.SELECTION, "data"))(
        update_scatter
    )
    app.callback(
        Output(ids.SELECTION, "data"),
        Input(ids.SCATTER, "selectedData"),
        Input(ids.CLEAR_SELECTION, "n_clicks"),
        prevent_initial_call=True,
    )(update_selection)
    app.callback(
        Output(ids.NAV_LOCATION, "href"),
        Input(ids.GRID, "cellClicked"),
        State(ids.GRID, "rowData"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )(open_example)
    app.callback(
        Output(ids.CORPUS_HEADER, "children"), Input(ids.RUN, "value"), prevent_initial_call=True
    )(update_header)
    app.callback(
        Output(ids.CO_PLAUS, "style"),
        Output(ids.GRID, "columnDefs"),
        Output(ids.SHARE_FIELD, "style"),
        Input(ids.RUN, "value"),
        prevent_initial_call=True,
    )(show_plausibility)
    app.callback(
        Output(ids.CSV_DOWNLOAD, "data"),
        Input(ids.CSV_BUTTON, "n_clicks"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )(download_csv)


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__, path="/", title="Attention Atlas: corpus", name="Corpus", nav=1, layout=layout
)

"""The corpus page's static components: the filter controls and the example table.

``dashboard.pages.corpus`` places them and wires their callbacks; the component ids they carry
(``attention_atlas.dashboard.ids``) are the contract between the two.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from attention_atlas.dashboard import ids, plausibility_panels
from attention_atlas.dashboard.urlstate import CorpusState
from attention_atlas.db import queries
from attention_atlas.models import vocabulary


def pair_options(run: queries.RunInfo | None) -> list[dict]:
    methods = run.methods if run else list(vocabulary.method_ids())
    return [
        {"label": f"{a} vs {b}", "value": f"{a},{b}"}
        for i, a in enumerate(methods)
        for b in methods[i + 1 :]
    ]


def _number(cid: str, value: Any, **extra: Any) -> dcc.Input:
    """A numeric input that reports on Enter or blur, not on every keystroke."""
    return dcc.Input(id=cid, type="number", value=value, debounce=True, **extra)


def field(label: str, control: Any) -> html.Div:
    return html.Div([html.Label(label), control], className="field")


def segment_names(run: queries.RunInfo | None) -> tuple[str, str]:
    """The names of a pair run's two texts (its text fields), else first / second text."""
    fields = str((run.settings if run else {}).get("text_field", "")).split(",")
    if len(fields) == 2 and all(f.strip() for f in fields):
        return fields[0].strip(), fields[1].strip()
    return "first text", "second text"


def is_pair_run(run: queries.RunInfo | None) -> bool:
    return run is not None and "," in str(run.settings.get("text_field", ""))


def share_controls(state: CorpusState, run: queries.RunInfo | None) -> html.Div:
    """Sentence pairs: filter by one text's share of a method's attribution mass ("did it only
    read the hypothesis?"); hidden, not absent, for runs of one text (callbacks read it)."""
    first, second = segment_names(run)
    methods = run.methods if run else list(vocabulary.method_ids())
    return html.Div(
        [
            html.Label("Share of attribution mass on"),
            html.Div(
                [
                    dcc.RadioItems(
                        [{"label": first, "value": 1}, {"label": second, "value": 2}],
                        state.seg,
                        id=ids.SHARE_SEGMENT,
                        inline=True,
                    ),
                    dcc.Dropdown(
                        methods,
                        state.share,
                        id=ids.SHARE_METHOD,
                        placeholder="method (|scores|)",
                        className="small-dropdown",
                    ),
                ]
            ),
            html.Div(
                [
                    _number(ids.SHARE_MIN, state.minshare, placeholder="min", min=0, max=1),
                    _number(ids.SHARE_MAX, state.maxshare, placeholder="max", min=0, max=1),
                ],
                className="pair-inputs",
            ),
        ],
        className="field",
        id=ids.SHARE_FIELD,
        style=share_style(run),
    )


def share_style(run: queries.RunInfo | None) -> dict | None:
    """The share fields' style: shown for a sentence-pair run, hidden otherwise."""
    return None if is_pair_run(run) else {"display": "none"}


def tag_options(counts: dict[str, int], current: str = "") -> list[dict]:
    """Dropdown options of the run's tags (``{tag: examples}``), the URL's tag kept."""
    if current and current not in counts:
        counts = {**counts, current: 0}
    return [{"label": f"{t} ({n})", "value": t} for t, n in sorted(counts.items())]


def controls(
    state: CorpusState,
    run: queries.RunInfo | None,
    runs: list[dict],
    tags: dict[str, int] | None = None,
    plausible: bool = False,
) -> html.Div:
    names = run.label_names if run else []
    classes = [{"label": n, "value": i} for i, n in enumerate(names)]
    measures = [{"label": label, "value": m} for m, label in vocabulary.MEASURES.items()]
    return html.Div(
        [
            field("Run", dcc.Dropdown(runs, run.id if run else None, id=ids.RUN, clearable=False)),
            field(
                "Gold label", dcc.Checklist(classes, list(state.label), id=ids.LABEL, inline=True)
            ),
            field("Prediction", dcc.Checklist(classes, list(state.pred), id=ids.PRED, inline=True)),
            field(
                "Correct",
                dcc.RadioItems(
                    [
                        {"label": "all", "value": ""},
                        {"label": "correct", "value": "yes"},
                        {"label": "incorrect", "value": "no"},
                    ],
                    {None: "", True: "yes", False: "no"}[state.correct],
                    id=ids.CORRECT,
                    inline=True,
                ),
            ),
            field(
                "Length (tokens)",
                html.Div(
                    [
                        _number(ids.LENGTH_MIN, state.minlen, placeholder="min", min=0),
                        _number(ids.LENGTH_MAX, state.maxlen, placeholder="max", min=0),
                    ],
                    className="pair-inputs",
                ),
            ),
            field(
                "Text contains",
                dcc.Input(
                    id=ids.SEARCH,
                    value=state.q,
                    debounce=True,
                    placeholder="search text",
                    type="text",
                ),
            ),
            field(
                "Method pair (x)",
                dcc.Dropdown(pair_options(run), ",".join(state.pair), id=ids.PAIR, clearable=False),
            ),
            field(
                "Scatter y pair",
                dcc.Dropdown(
                    pair_options(run), ",".join(state.ypair), id=ids.YPAIR, clearable=False
                ),
            ),
            field(
                "Agreement measure",
                dcc.Dropdown(measures, state.measure, id=ids.MEASURE, clearable=False),
            ),
            field(
                "Agree if x ≥ / disagree if x ≤",
                html.Div(
                    [
                        _number(ids.AGREE, state.agree, step=0.05),
                        _number(ids.DISAGREE, state.disagree, step=0.05),
                    ],
                    className="pair-inputs",
                ),
            ),
            field(
                "Show", dcc.RadioItems(list(queries.BANDS), state.band, id=ids.BAND, inline=True)
            ),
            field(
                "Tagged",
                dcc.Dropdown(
                    tag_options(tags or {}, state.tag),
                    state.tag or None,
                    id=ids.TAG,
                    placeholder="any (tags come from notes)",
                ),
            ),
            field(
                "Colour points by",
                dcc.RadioItems(
                    [
                        {"label": "correctness", "value": "correct"},
                        {"label": "tag", "value": "tag"},
                    ],
                    state.color,
                    id=ids.COLOR,
                    inline=True,
                ),
            ),
            plausibility_panels.corpus_fields(state, run, plausible),
            share_controls(state, run),
        ],
        className="controls",
    )


COLUMNS = [
    {"field": "id", "headerName": "id", "width": 80},
    {"field": "snippet", "headerName": "text", "flex": 3, "minWidth": 280},
    {"field": "label", "headerName": "gold", "width": 100},
    {"field": "prediction", "headerName": "prediction", "width": 110},
    {"field": "confidence", "headerName": "conf.", "width": 90},
    {"field": "correct", "headerName": "correct", "width": 95},
    {"field": "length", "headerName": "tokens", "width": 90},
    {"field": "x", "headerName": "x agreement", "width": 120},
    {"field": "y", "headerName": "y agreement", "width": 120},
    {"field": "share", "headerName": "text share", "width": 190},
    {"field": "tags", "headerName": "tags", "width": 160},
    {"field": "plaus", "headerName": "plausibility", "width": 120},  # pmethod's pmeasure
]


SORT_OPTIONS = [{"label": c, "value": c} for c in queries.SORT_COLUMNS]


def share_header(state: CorpusState, run: queries.RunInfo | None) -> str:
    """The share column's header: whose share of which method's mass ("hypothesis share of
    |ig|"), when the link names a method."""
    if state.share is None:
        return "text share"
    return f"{segment_names(run)[state.seg - 1]} share of |{state.share}|"


def columns(state: CorpusState, run: queries.RunInfo | None, plausible: bool = False) -> list[dict]:
    """The table's columns: the plausibility column only for a run with rationales, the share
    column only for a sentence-pair run."""
    pair = is_pair_run(run)
    shown = [c for c in COLUMNS if (plausible or c["field"] != "plaus")]
    shown = [c for c in shown if pair or c["field"] != "share"]
    header = share_header(state, run)
    return [{**c, "headerName": header} if c["field"] == "share" else c for c in shown]


def table(
    state: CorpusState,
    rows: list[dict] | None = None,
    plausible: bool = False,
    run: queries.RunInfo | None = None,
) -> html.Div:
    """The table with its bar; ``rows`` are the first page's rows, rendered with the page so
    the table shows without waiting for a callback round trip."""
    return html.Div(
        [
            html.Div(
                [
                    html.Span(id=ids.COUNTS, className="counts"),
                    html.Label("Sort by"),
                    dcc.Dropdown(
                        SORT_OPTIONS,
                        state.sort,
                        id=ids.SORT,
                        clearable=False,
                        className="sort-dropdown",
                    ),
                    dcc.Checklist(
                        [{"label": "descending", "value": 1}],
                        [1] if state.desc else [],
                        id=ids.DESC,
                        inline=True,
                    ),
                    html.Label("Page"),
                    dcc.Input(
                        id=ids.PAGE,
                        type="number",
                        min=1,
                        value=state.page,
                        debounce=True,
                        className="page-input",
                    ),
                    html.Span(id=ids.PAGE_INFO, className="page-info"),
                    html.Button("Download CSV", id=ids.CSV_BUTTON, n_clicks=0),
                    dcc.Download(id=ids.CSV_DOWNLOAD),
                ],
                className="table-bar",
            ),
            dag.AgGrid(
                id=ids.GRID,
                columnDefs=columns(state, run, plausible),
                rowData=rows or [],
                getRowId="params.data.id",
                defaultColDef={"sortable": False, "resizable": True},
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow"},
                    "tooltipShowDelay": 300,
                    # rows drawn as the grid is built, not in later animation frames: the
                    # first visit's rows come before plotly.js (assets/plotly_loader.js waits
                    # for the main thread to go idle, which it would between those frames)
                    "suppressAnimationFrame": True,
                },
                style={"height": "560px", "width": "100%"},
                className="ag-theme-alpine",
            ),
        ]
    )

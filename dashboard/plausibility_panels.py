"""Plausibility on the pages (human rationales, issue 23): the example page's rationale note
and per-method score table, the corpus page's plausibility filter fields, and the faithfulness
page's plausibility view. Every piece appears only for a run stored with rationales, so a run
without them shows no empty plausibility panel.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from dash import dcc, html

from attention_atlas.dashboard import ids
from attention_atlas.dashboard.figures import charts
from attention_atlas.dashboard.figures.plausibility import MethodPoint, plausibility_vs_faithfulness
from attention_atlas.dashboard.urlstate import FAITHFULNESS_AXES, CorpusState, FaithfulnessState
from attention_atlas.db import queries
from attention_atlas.db.filter_grammar import format_thresholds
from attention_atlas.db.plausibility_reads import RationaleInfo
from attention_atlas.models import vocabulary

HIDDEN = {"display": "none"}


def _number(value: Any) -> str:
    return (
        "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"
    )


def _table(header: list[str], rows: list[list[Any]], cid: str) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(v) for v in row]) for row in rows]),
        ],
        id=cid,
        className="score-table",
    )


# -- example page ---------------------------------------------------------------------------
def rationale_note(info: RationaleInfo | None) -> html.P | None:
    """What the rationale track shows (None without a rationale)."""
    if info is None:
        return None
    text = (
        f"Human rationale: {info.marked} token{'s' if info.marked != 1 else ''} marked "
        "(the amber track above the methods)"
    )
    if info.cut:
        text += f"; {info.cut} marked characters were cut off by truncation"
    if not info.marked:
        text += "; nothing marked survived truncation, so there is no plausibility"
    return html.P(text + ".", id=ids.EX_RATIONALE_NOTE, className="muted")


def example_scores(faith: pd.DataFrame, plaus: pd.DataFrame) -> html.Table | None:
    """Per method: ERASER comprehensiveness and sufficiency, and (with a rationale) AUPRC,
    token F1 and IOU F1 beside them; None when the example has neither."""
    if faith.empty and plaus.empty:
        return None
    faith_by = faith.set_index("method") if not faith.empty else pd.DataFrame()
    plaus_by = plaus.set_index("method") if not plaus.empty else pd.DataFrame()
    methods = vocabulary.with_random_last([*faith_by.index, *plaus_by.index])
    header = ["method", "comprehensiveness ↑", "sufficiency ↓"]
    if not plaus.empty:
        header += [f"{label} ↑" for label in vocabulary.PLAUSIBILITY.values()]
    rows = []
    for method in methods:
        row: list[Any] = [vocabulary.label_of(method)]
        for column in ("comprehensiveness", "sufficiency"):
            row.append(_number(faith_by[column].get(method)) if not faith.empty else "—")
        if not plaus.empty:
            row += [_number(plaus_by[m].get(method)) for m in vocabulary.PLAUSIBILITY]
        rows.append(row)
    return _table(header, rows, ids.EX_SCORES)


# -- corpus page ----------------------------------------------------------------------------
def corpus_fields(state: CorpusState, run: queries.RunInfo | None, shown: bool) -> html.Div:
    """The plausibility filter: measure, ``method:value`` thresholds (at least / at most) and
    the table's plausibility column; hidden for a run without rationales (the controls stay
    in the page for the callbacks)."""
    methods = run.methods if run else list(vocabulary.method_ids())
    measures = [{"label": label, "value": m} for m, label in vocabulary.PLAUSIBILITY.items()]
    label = "Plausibility ({}) at least / at most, method:value".format
    return html.Div(
        [
            html.Label(label(vocabulary.PLAUSIBILITY[state.pmeasure])),
            dcc.Dropdown(measures, state.pmeasure, id=ids.CO_PMEASURE, clearable=False),
            html.Div(
                [
                    _thresholds(ids.CO_PMIN, state.pmin, "attention:0.6"),
                    _thresholds(ids.CO_PMAX, state.pmax, "ig:0.3"),
                ],
                className="pair-inputs",
            ),
            html.Label("Plausibility column (sort: plaus)"),
            dcc.Dropdown(methods, state.pmethod, id=ids.CO_PMETHOD, placeholder="method"),
        ],
        id=ids.CO_PLAUS,
        className="field",
        style=None if shown else HIDDEN,
    )


def _thresholds(cid: str, value: tuple, placeholder: str) -> dcc.Input:
    return dcc.Input(
        id=cid, value=format_thresholds(value), placeholder=placeholder, debounce=True, type="text"
    )


# -- faithfulness page ----------------------------------------------------------------------
def points(summary: pd.DataFrame, x: str, y: str) -> list[MethodPoint]:
    """One :class:`MethodPoint` per row of ``AtlasData.plausibility_summary``."""
    return [
        MethodPoint(r["method"], int(r["n"]), r[x], r[f"{x}_se"], r[y], r[f"{y}_se"])
        for r in summary.to_dict("records")
        if not math.isnan(r[x]) or r["method"] == vocabulary.RANDOM.id
    ]


def plausibility_figure(summary: pd.DataFrame, state: FaithfulnessState) -> dict:
    """Plausibility (``pmeasure``) against faithfulness (``pfaith``) per method."""
    if summary.empty:
        return charts.empty_figure("no example of the filter has a rationale")
    measure = state.corpus.pmeasure
    n = int(summary["n"].max())
    return plausibility_vs_faithfulness(
        points(summary, state.pfaith, measure),
        f"{state.pfaith} (mean)",
        f"{vocabulary.PLAUSIBILITY[measure]} (mean)",
        f"Plausibility against faithfulness over {n} examples with a rationale (± 1 s.e.)",
    )


def plausibility_table(summary: pd.DataFrame) -> html.Table:
    header = ["method", "examples", *(f"{v} ↑" for v in vocabulary.PLAUSIBILITY.values())]
    header.append("comprehensiveness ↑ (same examples)")
    rows = [
        [vocabulary.label_of(r["method"]), r["n"]]
        + [_number(r[m]) for m in vocabulary.PLAUSIBILITY]
        + [_number(r["comprehensiveness"])]
        for r in summary.to_dict("records")
    ]
    return _table(header, rows, ids.FA_PLAUS_TABLE)


def faithfulness_section(state: FaithfulnessState, summary: pd.DataFrame) -> html.Div:
    """The plausibility view: controls, plot and table."""
    measures = [{"label": label, "value": m} for m, label in vocabulary.PLAUSIBILITY.items()]
    return html.Div(
        [
            html.H3("Plausibility: agreement with the human rationale (ERASER)"),
            html.P(
                "Per method, the mean AUPRC of its scores against the annotators' marks and the "
                "F1 of its top-k tokens (k = tokens marked), over the filtered examples with a "
                "rationale; 'random order' is the baseline. The plot asks whether a method "
                "that looks plausible is also faithful.",
                className="muted",
            ),
            html.Div(
                [
                    html.Label("plausibility"),
                    dcc.RadioItems(
                        measures, state.corpus.pmeasure, id=ids.FA_PMEASURE, inline=True
                    ),
                    html.Label("faithfulness"),
                    dcc.RadioItems(
                        list(FAITHFULNESS_AXES), state.pfaith, id=ids.FA_PFAITH, inline=True
                    ),  # fmt: skip
                ],
                className="example-controls",
            ),
            dcc.Graph(figure=plausibility_figure(summary, state), id=ids.FA_PLAUS_FIG),
            plausibility_table(summary),
        ],
        id=ids.FA_PLAUS,
    )

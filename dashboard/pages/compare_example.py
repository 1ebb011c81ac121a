"""Side-by-side view ``/compare/example?a=..&b=..&source=..``: one shared example's token rows
in run A and in run B, stacked, with its prediction in each run and the similarity of the two
runs' maps per method. Its controls (subword / word view, special tokens) are links, so every
view is a URL.
"""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import dcc, html

from attention_atlas.dashboard import components, example_tokens, ids, urls
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.urlstate import CompareExampleState, CompareState
from attention_atlas.db.compare import SIMILARITIES
from attention_atlas.models import vocabulary


def _message(text: str, state: CompareExampleState) -> html.Div:
    back = CompareState(a=state.a, b=state.b, corpus=state.corpus).to_search()
    return html.Div(
        [
            html.H2("Side by side", className="page-title"),
            html.P(text, id=ids.CP_MESSAGE, className="not-found"),
            dcc.Link("Back to the comparison", href=urls.page("compare", back)),
        ]
    )


def _block(key: str, state: CompareExampleState, run: Any, example_id: int) -> html.Div:
    data = service()
    detail, scores = data.example(example_id), data.attributions(example_id)
    predicted = detail.label_names[detail.prediction] if detail.label_names else detail.prediction
    rows = components.token_rows(
        detail.tokens,
        np.asarray(detail.word_ids),
        np.asarray(detail.special_mask, dtype=bool),
        scores,
        state.view,
        state.specials,
        None,
    )
    return html.Div(
        [
            html.H3(
                [
                    f"Run {key}: {run.name} · predicts {predicted} ({detail.confidence:.3f}) · ",
                    dcc.Link(f"example {example_id}", href=urls.example(example_id)),
                ]
            ),
            rows,
        ],
        id=ids.CP_SIDE_A if key == "A" else ids.CP_SIDE_B,
        className="tokens-box",
    )


def _similarities(state: CompareExampleState, run_a: Any, run_b: Any) -> html.Table:
    sim = service().similarity(run_a, run_b)
    row = np.flatnonzero(sim.shared.source == state.source)
    body = []
    for j, method in enumerate(sim.methods):
        values = sim.values[row[0], j] if row.size else np.full(len(SIMILARITIES), np.nan)
        cells = ["—" if np.isnan(v) else f"{v:.3f}" for v in values]
        body.append(html.Tr([html.Td(vocabulary.label_of(method)), *map(html.Td, cells)]))
    head = ["method", *SIMILARITIES.values()]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
        className="score-table",
    )


def _toggles(state: CompareExampleState) -> html.Div:
    other_view = "word" if state.view == "subword" else "subword"
    return html.Div(
        [
            dcc.Link(
                f"show {other_view}s",
                href=urls.page("compare_example", state.with_(view=other_view).to_search()),
            ),
            " · ",
            dcc.Link(
                "hide special tokens" if state.specials else "show special tokens",
                href=urls.page(
                    "compare_example", state.with_(specials=not state.specials).to_search()
                ),
            ),
            " · ",
            dcc.Link(
                "back to the comparison",
                href=urls.page(
                    "compare", CompareState(a=state.a, b=state.b, corpus=state.corpus).to_search()
                ),
            ),
        ],
        className="walk-bar",
    )


def layout(**query: Any) -> html.Div:
    state = CompareExampleState.parse(query)
    if state.a is None or state.b is None or state.source is None:
        return _message("Name two runs and an example: ?a=<run>&b=<run>&source=<index>.", state)
    data = service()
    run_a, run_b = data.run(state.a), data.run(state.b)
    if run_a is None or run_b is None:
        return _message("No such run in this database.", state)
    id_a, id_b = data.example_at(run_a, state.source), data.example_at(run_b, state.source)
    if id_a is None or id_b is None:
        return _message(f"Source example {state.source} is not in both runs.", state)
    detail = data.example(id_a)
    assert detail is not None  # example_at found it
    return html.Div(
        [
            html.H2(f"Source example {state.source}, side by side", className="page-title"),
            _toggles(state),
            example_tokens.text_panel(detail),
            _similarities(state, run_a, run_b),
            _block("A", state, run_a, id_a),
            _block("B", state, run_b, id_b),
        ]
    )


def register_callbacks(app: dash.Dash) -> None:
    """No callbacks: the view is a pure function of its URL."""


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__, path="/compare/example", title="Attention Atlas: side by side", layout=layout
)

"""Small Dash component builders: the stacked token rows of the example page and their legend.

Each token is a ``<span class="tok" data-pos=...>`` so the client-side script in
``assets/atlas.js`` can highlight the same position in every row on hover; its ``title`` holds
the exact score. Colours: diverging (blue negative, red positive) for signed methods,
sequential purple for attention-like (non-negative) methods, each scaled per row.
"""

from __future__ import annotations

from html import escape

import numpy as np
from dash import dcc, html

from attention_atlas.models import vocabulary


def aggregate_words(
    tokens: list[str], word_ids: np.ndarray, special: np.ndarray, scores: np.ndarray
) -> tuple[list[str], list[int], np.ndarray]:
    """Subwords -> words: (labels, first token position of each unit, summed scores [U]).
    Specials stay single units (word id -1)."""
    labels, positions, values = [], [], []
    previous = None
    for i, token in enumerate(tokens):
        wid = int(word_ids[i])
        if wid >= 0 and wid == previous and not special[i]:
            labels[-1] += token.removeprefix("##")
            values[-1] += float(scores[i])
            continue
        labels.append(token)
        positions.append(i)
        values.append(float(scores[i]))
        previous = wid if wid >= 0 else None
    return labels, positions, np.asarray(values)


def token_color(value: float, signed: bool) -> str:
    """CSS rgba for a score already scaled to [-1, 1] (signed) or [0, 1]."""
    alpha = min(1.0, abs(value))
    if not signed:
        return f"rgba(84, 39, 143, {alpha:.3f})"
    rgb = "178, 24, 43" if value >= 0 else "33, 102, 172"
    return f"rgba({rgb}, {alpha:.3f})"


def token_row_html(
    method: str,
    labels: list[str],
    positions: list[int],
    values: np.ndarray,
    keep: np.ndarray,
    pinned: int | None,
) -> str:
    """One method's row as HTML: a name cell then one coloured span per kept unit. Built as a
    string because thousands of Dash components per example cost ~0.1 ms each."""
    signed = method in vocabulary.signed_method_ids()
    shown = values[keep]
    scale = float(np.max(np.abs(shown))) if shown.size else 1.0
    scale = scale if scale > 0 else 1.0
    spans = []
    for label, pos, value, visible in zip(labels, positions, values, keep, strict=True):
        if not visible:
            continue
        scaled = value / scale
        classes = "tok" + (" tok-pinned" if pos == pinned else "")
        color = "color:white;" if abs(scaled) > 0.6 else ""
        text = escape(label)
        spans.append(
            f'<span class="{classes}" data-pos="{pos}" style="background-color:'
            f'{token_color(scaled, signed)};{color}" title="{escape(method)}: {text} = '
            f'{value:.4f}">{text}</span>'
        )
    kind = "signed" if signed else "≥ 0"
    return (
        f'<div class="tok-row" data-method="{escape(method)}"><div class="tok-method">'
        f"<b>{escape(method)}</b><small> {kind}, max |s| {scale:.3g}</small></div>"
        f'<div class="tok-line">{"".join(spans)}</div></div>'
    )


def legend() -> html.Div:
    """Colour keys for the two kinds of rows."""
    return html.Div(
        [
            html.Span("signed methods:", className="legend-label"),
            html.Span("− toward other class", className="legend-bar legend-div-neg"),
            html.Span("+ toward prediction", className="legend-bar legend-div-pos"),
            html.Span("attention-like:", className="legend-label"),
            html.Span("0 → max weight", className="legend-bar legend-seq"),
            html.Span(
                "(each row scaled to its own max |score|; hover a token for its value)",
                className="legend-note",
            ),
        ],
        className="tok-legend",
    )


def token_rows(
    tokens: list[str],
    word_ids: np.ndarray,
    special: np.ndarray,
    attributions: dict[str, np.ndarray],
    view: str,
    show_specials: bool,
    pinned: int | None,
) -> html.Div:
    """The text once per method, stacked so the same token lines up down the rows."""
    rows = []
    for method, scores in attributions.items():
        if view == "word":
            labels, positions, values = aggregate_words(tokens, word_ids, special, scores)
        else:
            labels, positions, values = list(tokens), list(range(len(tokens))), np.asarray(scores)
        keep = np.array([show_specials or not special[p] for p in positions], dtype=bool)
        rows.append(token_row_html(method, labels, positions, values.astype(float), keep, pinned))
    if not rows:
        return html.Div("No attributions stored for this example.", className="muted")
    body = dcc.Markdown(f'<div class="tok-rows">{"".join(rows)}</div>', dangerously_allow_html=True)
    return html.Div([legend(), body])


def reference_choices(methods: list[str] | None, current: str) -> list[dict[str, str]]:
    """The head-grid reference options: the run's methods that are references (every stored
    method since grids are computed against each), in canonical order, plus ``current``; every
    reference when the run is unknown."""
    known = vocabulary.reference_method_ids()
    chosen = [m for m in methods or known if m in known]
    ids = vocabulary.in_order([*chosen, current])
    return [{"label": vocabulary.label_of(m), "value": m} for m in ids]

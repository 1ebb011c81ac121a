"""The token section of the example page: its controls, its container and its callbacks.

The server callback (``pages.example.update_example``) renders the overview strip and the
aligned tracks (:mod:`dashboard.tracks`) to one HTML string in a ``dcc.Store``; the client-side
function ``atlas.showTracks`` (``assets/tracks.js``) puts it into the page. Which methods are
shown and in which order (``methods``), the density (``density``) and the subword / word view
(``view``; absent = by length: words for texts over :data:`LONG_TEXT` tokens) are URL keys.
"""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import ClientsideFunction, Input, NoUpdate, Output, dcc, html, no_update

from attention_atlas.dashboard import components, display_text, ids, inputs
from attention_atlas.dashboard.figures import attention_rows
from attention_atlas.dashboard.tracks import TokenText, tracks_html
from attention_atlas.dashboard.urlstate import DENSITIES, VIEWS, ExampleState
from attention_atlas.db import example_queries

LONG_TEXT = 100  # tokens: longer examples open in the word view
MAX_POSITION = 1_000_000  # a clicked token position beyond any stored example is ignored


def default_view(n_tokens: int) -> str:
    return "word" if n_tokens > LONG_TEXT else "subword"


def view_of(state: ExampleState, n_tokens: int) -> str:
    """The view shown: the URL's choice, else the default for the length."""
    return state.view or default_view(n_tokens)


def canonical_view(view: Any, n_tokens: int) -> str | None:
    """A view control value as URL state: None (absent) when it is the length's default."""
    chosen = inputs.as_choice(view, VIEWS)
    return None if chosen in (None, default_view(n_tokens)) else chosen


def canonical_methods(value: Any, stored: list[str]) -> tuple[str, ...]:
    """The methods control (a list of ids, in display order) as URL state: stored methods only,
    no repeats; () (absent: all, registry order) when it lists every stored one in that order
    or none."""
    chosen = [m for m in inputs.as_list(value) if isinstance(m, str) and m in stored]
    chosen = list(dict.fromkeys(chosen))
    return () if chosen == stored or not chosen else tuple(chosen)


def shown_methods(state: ExampleState, attributions: dict[str, np.ndarray]) -> dict:
    """method -> scores in display order: the URL's ``methods`` that are stored, else all."""
    picked = [m for m in state.methods if m in attributions]
    return {m: attributions[m] for m in picked} if picked else attributions


def controls(state: ExampleState, stored: list[str]) -> html.Div:
    """Methods shown (their order is the order picked), density."""
    return html.Div(
        [
            html.Label("methods (in this order)"),
            dcc.Dropdown(
                stored,
                list(state.methods) or stored,
                id=ids.EX_METHODS,
                multi=True,
                clearable=False,
                className="methods-dropdown",
            ),
            dcc.RadioItems(list(DENSITIES), state.density, id=ids.EX_DENSITY, inline=True),
        ],
        className="example-controls",
    )


def section(first: str | None = None) -> html.Div:
    """Legend, markup note and the tracks' container, filled in the browser from ``first``
    (the tracks rendered with the layout, so they need no callback round trip) and then from
    each update."""
    return html.Div(
        [
            components.legend(),
            html.P(display_text.NOTE, className="legend-note markup-note"),
            dcc.Store(id=ids.EX_TRACKS, data=first),
            dcc.Store(id=ids.EX_TRACKS_SHOWN),
            html.Div(id=ids.EX_TOKENS, className="tokens-box"),
        ],
        className="token-section",
    )


def text_panel(detail: example_queries.ExampleDetail) -> html.Div:
    """The text as a reader sees it: markup as line breaks, the truncated tail greyed; a
    sentence pair as two paragraphs, each under its text's name."""
    special = np.asarray(detail.special_mask, dtype=bool)
    offsets = detail.offsets if detail.offsets is not None else np.zeros((0, 2))
    if detail.is_pair:
        return _pair_panel(detail, special, offsets)
    cut = display_text.seen_end(offsets, special, detail.truncated)
    children = display_text.text_children(detail.text, cut)
    if cut is not None:
        children.append(html.Div("greyed: cut off by truncation, not seen by the model"))
    return html.Div(children, className="example-text", id=ids.EX_TEXT)


def _pair_panel(
    detail: example_queries.ExampleDetail, special: np.ndarray, offsets: np.ndarray
) -> html.Div:
    assert detail.text_pair is not None and detail.pair_start is not None  # is_pair
    second = np.arange(len(special)) >= detail.pair_start
    paragraphs: list[html.P | html.Div] = []
    cut_any = False
    for name, text, part in zip(
        detail.segment_names, (detail.text, detail.text_pair), (~second, second), strict=True
    ):
        cut = display_text.seen_end(offsets[part], special[part], detail.truncated)
        if cut is None and detail.truncated and not (part & ~special).any():
            cut = 0  # truncation took the whole text
        cut_any |= cut is not None
        children = [html.Span(name, className="segment-name")]
        paragraphs.append(html.P(children + display_text.text_children(text, cut)))
    if cut_any:
        paragraphs.append(html.Div("greyed: cut off by truncation, not seen by the model"))
    return html.Div(paragraphs, className="example-text pair-text", id=ids.EX_TEXT)


def shown_text(detail: example_queries.ExampleDetail) -> tuple[str, np.ndarray]:
    """(text, offsets [T, 2] into it) as the tracks read an example: a sentence pair's two
    texts joined (``db.example_queries.joined_text``)."""
    n = len(detail.tokens)
    offsets = detail.offsets if detail.offsets is not None else np.zeros((n, 2), dtype=int)
    return example_queries.joined_text(
        detail.text, detail.text_pair, offsets, detail.special_mask, detail.pair_start
    )


def _token_text(detail: example_queries.ExampleDetail) -> TokenText:
    """The example's tokens with what the tracks need to group and mark them."""
    n = len(detail.tokens)
    text, offsets = shown_text(detail)
    return TokenText(
        detail.tokens,
        np.asarray(detail.word_ids),
        np.asarray(detail.special_mask, dtype=bool),
        display_text.token_markup(offsets, text, n),
        display_text.breaking(text),
        text,
        offsets,
        detail.pair_start if detail.is_pair else None,
        detail.segment_names[1] if detail.is_pair else "second text",
    )


def tracks(
    detail: example_queries.ExampleDetail,
    attributions: dict,
    state: ExampleState,
    rationale: np.ndarray | None = None,
) -> str:
    """The overview strip and aligned tracks of the example for ``state``, as HTML (the human
    ``rationale`` mask [T] as the first track when the example has one)."""
    return tracks_html(
        _token_text(detail),
        shown_methods(state, attributions),
        view_of(state, len(detail.tokens)),
        state.specials,
        state.token,
        state.density,
        rationale,
    )


def pin_from_heatmap(click: Any) -> int | NoUpdate:
    """A click on the attention-by-layer figure -> the pinned token position."""
    position = attention_rows.clicked_position(click, MAX_POSITION)
    return no_update if position is None else position


def register_callbacks(app: dash.Dash) -> None:
    app.clientside_callback(
        ClientsideFunction("atlas", "showTracks"),
        Output(ids.EX_TRACKS_SHOWN, "data"),
        Input(ids.EX_TRACKS, "data"),
    )
    app.callback(
        Output(ids.EX_TOKEN, "data", allow_duplicate=True),
        Input(ids.EX_HEATMAP, "clickData"),
        prevent_initial_call=True,
    )(pin_from_heatmap)

"""Aligned token tracks and the overview strip of the example page, as one HTML string.

The text wraps into lines; within each line the words are written once and every selected
method's scores sit beneath them as a row of coloured cells, one cell per word (or subword),
each as wide as its word: the methods line up column by column, like an interlinear gloss or a
genome browser's tracks. Above the lines an overview strip shows every method over the whole
text (methods x units, the full length across the page); ``assets/tracks.js`` marks the lines
in view on it and scrolls to a clicked position.

Built as a string and set as the container's innerHTML in the browser: a 512-token review is
several thousand cells, and as Dash components (or Markdown to parse) they would cost far more
than the string does. Every token is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np

from attention_atlas.models import vocabulary

LINE_BUDGET = 170  # characters per line (13px monospace cells fill ~1240 px at 1440 px wide)
CELL_OVERHEAD = 1.0  # padding and gap of a cell, in characters
MAX_LABEL = 24  # longer words are cut in the cell (the hover shows them whole)
BREAK_LABEL = "↵"


def _palette(rgb: tuple[int, int, int]) -> list[str]:
    return [f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}{a:02x}" for a in range(256)]


# the colours of ``components.token_color`` as #rrggbbaa strings, one per alpha step
_PURPLE, _RED, _BLUE = _palette((84, 39, 143)), _palette((178, 24, 43)), _palette((33, 102, 172))
RATIONALE = "rationale"  # the human rationale's track, above the methods
RATIONALE_COLOR = "#e6a100"  # amber: marked by the annotators (not a method's colour scale)


def colors(scaled: np.ndarray, signed: bool) -> list[str]:
    """CSS colours of values already scaled to [-1, 1] (signed: blue negative, red positive)
    or [0, 1] (purple), the opacity following |value|."""
    scaled = np.nan_to_num(np.asarray(scaled, dtype=float))
    alpha = np.rint(np.clip(np.abs(scaled), 0, 1) * 255).astype(int).tolist()
    if not signed:
        return [_PURPLE[a] for a in alpha]
    return [(_RED if v >= 0 else _BLUE)[a] for v, a in zip(scaled.tolist(), alpha, strict=True)]


@dataclass(frozen=True)
class Units:
    """The cells of one view: ``labels[u]`` covers token positions ``first[u]..last[u]``;
    ``owner[t]`` is the unit of token t; ``markup`` / ``special`` flag units."""

    labels: list[str]
    first: np.ndarray  # [U] int
    last: np.ndarray  # [U] int
    owner: np.ndarray  # [T] int
    markup: np.ndarray  # [U] bool
    special: np.ndarray  # [U] bool
    boundary: int | None = None  # a sentence pair: the unit where the second text starts

    def sums(self, scores: np.ndarray) -> np.ndarray:
        """[U] sum of a method's token scores over each unit."""
        weights = np.asarray(scores, dtype=float)
        return np.bincount(self.owner, weights=weights, minlength=len(self.labels))

    def unit_of(self, position: int | None) -> int | None:
        if position is None or not 0 <= position < len(self.owner):
            return None
        return int(self.owner[position])


@dataclass(frozen=True)
class TokenText:
    """What the tracks need of an example: tokens, their words, specials, and where the text
    has markup (``markup[t]``: index of the tag token t spells, -1 none; ``breaks[tag]``)."""

    tokens: list[str]
    word_ids: np.ndarray
    special: np.ndarray
    markup: np.ndarray
    breaks: np.ndarray
    text: str = ""
    offsets: np.ndarray | None = None
    pair_start: int | None = None  # a sentence pair: the second text's first token
    pair_name: str = "second text"  # its name (the run's second text field)


def _same_unit(doc: TokenText, a: int, b: int) -> bool:
    """Whether token b continues token a's word (word view)."""
    if doc.special[a] or doc.special[b]:
        return False
    if doc.markup[a] >= 0 or doc.markup[b] >= 0:
        return bool(doc.markup[a] == doc.markup[b])
    return int(doc.word_ids[b]) >= 0 and int(doc.word_ids[a]) == int(doc.word_ids[b])


def _word_label(doc: TokenText, first: int, last: int) -> str:
    """The word as written in the text (original case, no ``##``) when offsets allow."""
    if doc.offsets is not None and len(doc.offsets) == len(doc.tokens):
        start, end = int(doc.offsets[first][0]), int(doc.offsets[last][1])
        shown = doc.text[start:end].strip() if 0 <= start < end <= len(doc.text) else ""
        if shown:
            return shown
    return "".join(t.removeprefix("##") for t in doc.tokens[first : last + 1])


def build_units(doc: TokenText, view: str) -> Units:
    """Subword view: one unit per token. Word view: one per word, and one per markup tag."""
    n = len(doc.tokens)
    starts = list(range(n))
    if view == "word" and n:
        starts = [0] + [i for i in range(1, n) if not _same_unit(doc, i - 1, i)]
    first = np.array(starts, dtype=np.int64)
    last = np.append(first[1:] - 1, n - 1) if n else first
    owner = np.repeat(np.arange(len(first)), last - first + 1) if n else np.zeros(0, np.int64)
    markup = np.array([doc.markup[f] >= 0 for f in first], dtype=bool)
    special = np.array([bool(doc.special[f]) for f in first], dtype=bool)
    labels = []
    for f, la, is_markup in zip(first, last, markup, strict=True):
        if view != "word" or doc.special[f]:
            labels.append(doc.tokens[f])
        elif is_markup and doc.breaks[doc.markup[f]]:
            labels.append(BREAK_LABEL)
        else:
            labels.append(_word_label(doc, int(f), int(la)))
    boundary = None
    if doc.pair_start is not None and 0 <= doc.pair_start < n:
        boundary = int(owner[doc.pair_start])
    return Units(labels, first, last, owner, markup, special, boundary)


def wrap(widths: list[float], budget: float = LINE_BUDGET) -> list[tuple[int, int]]:
    """Greedy lines over cells of the given widths: [(first, end)) index ranges."""
    lines, start, used = [], 0, 0.0
    for i, width in enumerate(widths):
        if used and used + width > budget:
            lines.append((start, i))
            start, used = i, 0.0
        used += width
    if start < len(widths):
        lines.append((start, len(widths)))
    return lines


@dataclass(frozen=True)
class Track:
    """One method's row: unit values and the scale its colours use."""

    method: str
    values: np.ndarray  # [U]
    signed: bool
    scale: float
    colors: list[str]  # [U] CSS colour of each unit
    numbers: list[str]  # [U] each unit's value as hover text


def tracks_for(units: Units, attributions: dict[str, np.ndarray], shown: np.ndarray) -> list:
    """One :class:`Track` per method (in the given order), scaled to the max |value| shown."""
    signed = set(vocabulary.signed_method_ids())
    out = []
    for method, scores in attributions.items():
        values = units.sums(scores)
        visible = np.abs(values[shown])
        scale = float(visible.max()) if visible.size and visible.max() > 0 else 1.0
        is_signed = method in signed
        numbers = [f"{v:.4g}" for v in values.tolist()]
        out.append(
            Track(method, values, is_signed, scale, colors(values / scale, is_signed), numbers)
        )
    return out


def rationale_track(units: Units, mask: np.ndarray) -> Track:
    """The human rationale as a track: a unit is marked when any of its tokens is."""
    marked = units.sums(np.asarray(mask, dtype=float)) > 0
    colors = [RATIONALE_COLOR if m else "#00000000" for m in marked.tolist()]
    numbers = ["marked" if m else "not marked" for m in marked.tolist()]
    return Track(RATIONALE, marked.astype(float), False, 1.0, colors, numbers)


def _cells(track: Track, cells: list[tuple[int, int, str, bool]]) -> str:
    """One method's cells on a line; each cell's label is already escaped (shared by every
    track). Written as one comprehension: it runs for every cell of every track."""
    name, numbers, colors = escape(track.method), track.numbers, track.colors
    return "".join(
        f'<span class="tok tok-cell{" tok-pinned" if pinned else ""}" data-pos="{pos}" '
        f'style="background:{colors[u]}" title="{name}: {label} = {numbers[u]}"></span>'
        for u, pos, label, pinned in cells
    )


def _word(units: Units, u: int, pos: int, label: str, pinned: bool, pair_name: str) -> str:
    classes = "tok tok-word" + (" tok-markup" if units.markup[u] else "")
    classes += " tok-special" if units.special[u] else ""
    classes += " tok-pinned" if pinned else ""
    if u == units.boundary:  # a sentence pair's second text starts here
        classes += " tok-pair-start"
        label = f"{escape(pair_name)} starts: {label}"
    raw = units.labels[u]
    shown = escape(raw if len(raw) <= MAX_LABEL else raw[: MAX_LABEL - 1] + "…")
    return f'<span class="{classes}" data-pos="{pos}" title="{label}">{shown}</span>'


def _line(
    units: Units,
    visible: list[int],
    span: tuple[int, int],
    tracks: list[Track],
    pinned: int | None,
    pair_name: str = "",
) -> str:
    """One wrapped line: the words once, then one row of cells per method beneath them;
    ``span`` is the line's [first, end) range among the shown units (the overview's columns)."""
    cells = [(u, int(units.first[u]), escape(units.labels[u]), u == pinned) for u in visible]
    words = "".join(_word(units, *cell, pair_name) for cell in cells)
    rows = [f'<span class="track-name"></span>{words}']
    for track in tracks:
        name = escape(track.method)
        body = _cells(track, cells)
        rows.append(
            f'<div class="tok-row" data-method="{name}"><span class="track-name">{name}</span>'
            f"{body}</div>"
        )
    columns = f"grid-template-columns:var(--gutter) repeat({len(visible)},max-content)"
    return (
        f'<div class="track-line" data-first="{span[0]}" data-last="{span[1] - 1}" '
        f'style="{columns}">{"".join(rows)}</div>'
    )


def _overview(units: Units, shown: np.ndarray, tracks: list[Track], pinned: int | None) -> str:
    order = np.flatnonzero(shown)
    names, rows = [], []
    positions = units.first[order].tolist()
    for track in tracks:
        spans = "".join(
            f'<i data-pos="{p}" style="background:{track.colors[u]}"></i>'
            for u, p in zip(order.tolist(), positions, strict=True)
        )
        names.append(f'<span class="ov-name">{escape(track.method)}</span>')
        rows.append(f'<div class="ov-row">{spans}</div>')
    marker = ""
    if pinned is not None and shown[pinned]:
        left = 100 * int(np.searchsorted(order, pinned)) / len(order)
        marker = f'<div class="ov-pin" style="left:{left:.3f}%"></div>'
    if units.boundary is not None and len(order):
        left = 100 * int(np.searchsorted(order, units.boundary)) / len(order)
        marker += f'<div class="ov-pair" style="left:{left:.3f}%"></div>'
    return (
        f'<div class="overview" data-units="{len(order)}"><div class="ov-names">{"".join(names)}'
        f'</div><div class="ov-area">{"".join(rows)}<div class="ov-viewport"></div>{marker}</div>'
        '<div class="ov-help">overview: every method over the whole text; the box marks the '
        "lines in view, a click scrolls there and pins that token</div></div>"
    )


def tracks_html(
    doc: TokenText,
    attributions: dict[str, np.ndarray],
    view: str,
    show_specials: bool,
    pinned: int | None,
    density: str = "normal",
    rationale: np.ndarray | None = None,
) -> str:
    """The overview strip and the aligned tracks of ``attributions`` (method -> [T] scores, in
    display order) as one HTML string; ``pinned`` (a token position) outlined everywhere;
    ``rationale`` ([T] bool, the human rationale) its own track above the methods."""
    if not attributions and rationale is None:
        return '<p class="muted">No attributions stored for this example.</p>'
    units = build_units(doc, view)
    shown = ~units.special | show_specials
    tracks = tracks_for(units, attributions, shown)
    if rationale is not None:
        tracks.insert(0, rationale_track(units, rationale))
    pin = units.unit_of(pinned)
    visible = np.flatnonzero(shown)
    widths = [min(len(units.labels[u]), MAX_LABEL) + CELL_OVERHEAD for u in visible]
    lines = [
        _line(units, visible[a:b].tolist(), (a, b), tracks, pin, doc.pair_name)
        for a, b in wrap(widths, LINE_BUDGET)
    ]
    return (
        f'<div class="tracks density-{escape(density)}">{_overview(units, shown, tracks, pin)}'
        f'<div class="track-lines">{"".join(lines)}</div></div>'
    )

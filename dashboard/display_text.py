"""How an example's text is shown: markup such as IMDb's ``<br /><br />`` as line breaks.

Corpora scraped from the web carry HTML markup the model reads as ordinary tokens ("<", "br",
"/", ">"). The example page shows the text as a reader would see it: break tags become line
breaks in the text panel, other inline tags (``<i>``, ``<b>``...) are dropped from it, and the
tokens that spell a tag are marked in the token tracks. The stored text, tokens and scores are
never changed: this module only decides how they are displayed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

import numpy as np
from dash import html

MARKUP = re.compile(r"<\s*/?\s*(br|p|hr|i|b|em|strong|u)\s*/?\s*>", re.IGNORECASE)
BREAK_TAGS = frozenset({"br", "p", "hr"})
NOTE = (
    "Markup in the text (such as <br />) is shown as line breaks here and as ↵ in the tracks; "
    "the stored text, tokens and scores are exactly what the model read."
)


@dataclass(frozen=True)
class Markup:
    """One tag in the text: characters ``[start, end)``; ``breaks`` for a line-breaking tag."""

    start: int
    end: int
    breaks: bool


def markup_spans(text: str) -> list[Markup]:
    """The tags of ``text`` in order of appearance."""
    return [
        Markup(m.start(), m.end(), m.group(1).lower() in BREAK_TAGS) for m in MARKUP.finditer(text)
    ]


def _pieces(text: str, start: int, end: int, seen_end: int | None) -> list:
    """``text[start:end]``, the part at or after ``seen_end`` (cut off by truncation) greyed."""
    if seen_end is None or end <= seen_end:
        return [text[start:end]] if end > start else []
    if start >= seen_end:
        return [html.Span(text[start:end], className="unseen")]
    return [text[start:seen_end], html.Span(text[seen_end:end], className="unseen")]


def text_children(text: str, seen_end: int | None = None) -> list:
    """Children of the text panel: break tags as ``html.Br``, other tags left out, the text
    after character ``seen_end`` (what truncation cut off) in a greyed span."""
    children: list = []
    position = 0
    for tag in markup_spans(text):
        children += _pieces(text, position, tag.start, seen_end)
        if tag.breaks:
            children.append(html.Br())
        position = tag.end
    children += _pieces(text, position, len(text), seen_end)
    return children


def html_text(text: str) -> str:
    """``text`` as escaped HTML for a static page (the export): break tags as ``<br>``, other
    tags left out, as :func:`text_children` does for the example page."""
    parts: list[str] = []
    position = 0
    for tag in markup_spans(text):
        parts.append(escape(text[position : tag.start]))
        parts.append("<br>" if tag.breaks else "")
        position = tag.end
    parts.append(escape(text[position:]))
    return "".join(parts)


def token_markup(offsets: np.ndarray, text: str, n_tokens: int) -> np.ndarray:
    """[T] int: the index (in :func:`markup_spans` order) of the tag each token lies inside,
    -1 for tokens outside every tag. Offsets ([T, 2] character spans into ``text``) that do
    not fit the text mark nothing."""
    owner = np.full(n_tokens, -1, dtype=np.int64)
    spans = markup_spans(text)
    offsets = np.asarray(offsets).reshape(-1, 2)
    if not spans or len(offsets) != n_tokens or (n_tokens and offsets.max() > len(text)):
        return owner
    starts = np.array([s.start for s in spans])
    ends = np.array([s.end for s in spans])
    begin, finish = offsets[:, 0], offsets[:, 1]
    index = np.searchsorted(starts, begin, side="right") - 1  # last tag starting at or before
    inside = (index >= 0) & (finish > begin)
    inside &= finish <= ends[np.clip(index, 0, None)]
    owner[inside] = index[inside]
    return owner


def breaking(text: str) -> np.ndarray:
    """[tags] bool: which of the text's tags break a line."""
    return np.array([s.breaks for s in markup_spans(text)], dtype=bool)


def seen_end(offsets: np.ndarray, special: np.ndarray, truncated: bool) -> int | None:
    """The character where the model's (truncated) input ended; None when nothing was cut."""
    offsets = np.asarray(offsets).reshape(-1, 2)
    content = offsets[~np.asarray(special, dtype=bool)]
    if not truncated or content.size == 0:
        return None
    return int(content[:, 1].max())

"""Human rationales from a corpus column, and their token masks over the model's tokens.

``--rationale-field COLUMN`` names the column, ``--rationale-format`` its encoding:

- ``chars``: a list of character indexes into the text (SemEval-2021 Toxic Spans);
- ``spans``: a list of ``[start, end)`` character spans, none overlapping;
- ``words``: a list of whitespace-word indexes (ERASER's evidence offsets into a
  whitespace-tokenised document).

A cell may hold the list itself (JSON lines, parquet) or its JSON text (CSV, TSV). Every format
becomes the same thing, sorted disjoint character spans (:func:`parse_rationale`); an empty list
or an empty cell is "no rationale". A malformed cell raises :class:`RationaleError` naming what
is wrong; the corpus reader adds the row. :func:`token_mask` marks a token when any of its
non-whitespace characters is marked (a span's trailing space never marks the next token), never
a special or prompt token; characters past a truncated text's end are counted, not marked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

FORMATS = ("chars", "spans", "words")
Spans = tuple[tuple[int, int], ...]  # sorted, disjoint [start, end) character spans
_WORD = re.compile(r"\S+")


class RationaleError(ValueError):
    """A rationale cell that cannot be read (the corpus reader names its row)."""


@dataclass(frozen=True)
class TokenRationale:
    """A rationale over one example's tokens: ``mask`` [T] bool, and how many marked
    (non-whitespace) characters truncation cut off."""

    mask: np.ndarray
    cut: int

    @property
    def marked(self) -> int:
        return int(self.mask.sum())


def parse_rationale(value: Any, text: str, fmt: str) -> Spans | None:
    """The character spans a cell marks in ``text``; None for an empty cell or list."""
    items = _as_list(value)
    if not items:
        return None
    if fmt == "chars":
        return _merge([(i, i + 1) for i in _indexes(items, len(text), "character")])
    if fmt == "words":
        words = [m.span() for m in _WORD.finditer(text)]
        return _merge([words[i] for i in _indexes(items, len(words), "word")])
    if fmt == "spans":
        return _checked_spans(items, len(text))
    raise RationaleError(f"unknown rationale format {fmt!r} (one of {', '.join(FORMATS)})")


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RationaleError(f"not a JSON list: {value[:60]!r}") from None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        raise RationaleError(f"not a list: {str(value)[:60]!r}")
    return [v.tolist() if isinstance(v, np.ndarray) else v for v in value]


def _index(value: Any, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise RationaleError(f"{kind} index {value!r} is not an integer")
    return int(value)


def _indexes(items: Sequence[Any], size: int, kind: str) -> list[int]:
    out = [_index(v, kind) for v in items]
    bad = [i for i in out if not 0 <= i < size]
    if bad:
        raise RationaleError(f"{kind} index {bad[0]} out of range (the text has {size} {kind}s)")
    return out


def _checked_spans(items: Sequence[Any], size: int) -> Spans:
    pairs = []
    for item in items:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise RationaleError(f"span {item!r} is not a [start, end) pair")
        start, end = _index(item[0], "span"), _index(item[1], "span")
        if not 0 <= start < end <= size:
            raise RationaleError(f"span [{start}, {end}) is empty or outside the {size} characters")
        pairs.append((start, end))
    pairs.sort()
    for (_, end), (start, _) in zip(pairs, pairs[1:], strict=False):
        if start < end:
            raise RationaleError(f"spans overlap at character {start}")
    return _merge(pairs)


def _merge(pairs: list[tuple[int, int]]) -> Spans:
    """Sorted, disjoint spans covering the same characters (adjacent ones joined)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(pairs):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def token_mask(
    spans: Spans, text: str, offsets: np.ndarray, special_mask: np.ndarray, truncated: bool
) -> TokenRationale:
    """The rationale over the tokens: ``offsets`` [T, 2] character spans into ``text``,
    ``special_mask`` [T] (never marked). ``cut`` counts the marked non-whitespace characters
    past the last content token of a truncated text."""
    marked = np.zeros(len(text) + 1, dtype=bool)
    for start, end in spans:
        marked[start:end] = True
    marked[: len(text)] &= ~np.frombuffer(_space_map(text), dtype=bool)
    before = np.r_[0, np.cumsum(marked, dtype=np.int64)]
    starts, ends = offsets[:, 0].astype(np.int64), offsets[:, 1].astype(np.int64)
    content = ~np.asarray(special_mask, dtype=bool)
    mask = content & (before[ends] - before[starts] > 0)
    kept_end = int(ends[content].max()) if content.any() else 0
    cut = int(before[-1] - before[kept_end]) if truncated else 0
    return TokenRationale(mask, cut)


def _space_map(text: str) -> bytes:
    return bytes(char.isspace() for char in text)

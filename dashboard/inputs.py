"""Untrusted callback values -> typed values, never raising.

A browser sends each callback input as JSON, and anyone can send any JSON in its place: wrong
types, integers past 64 bits, NaN, lone surrogates, nested lists, dicts where strings belong.
Callbacks pass every value through one of these parsers before using it: each returns the typed
value or the default and never raises. Integers are range-checked here, before they reach SQL
(SQLite and PostgreSQL integers are signed 64-bit); text loses what no database stores (NUL,
lone surrogates). The scalar parsers live in ``db.scalars`` (the read API's filter grammar
parses with them too); the URL-state codec (``dashboard.urlstate``) uses the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, overload

from attention_atlas.db.scalars import MAX_TEXT, as_float, as_int, clean_text

MAX_ITEMS = 1_000  # longer lists (lasso selections, checklists) are cut

T = TypeVar("T")


def as_str(value: Any, default: str = "", limit: int = MAX_TEXT) -> str:
    """A string as sent (cleaned, cut to ``limit``); anything else is ``default``."""
    return clean_text(value, limit) if isinstance(value, str) else default


@overload
def as_choice(value: Any, options: Sequence[str]) -> str | None: ...
@overload
def as_choice(value: Any, options: Sequence[str], default: T) -> str | T: ...
def as_choice(value: Any, options: Sequence[str], default: T | None = None) -> str | T | None:
    """``value`` when it is one of ``options``."""
    return value if isinstance(value, str) and value in options else default


def as_search(value: Any) -> str:
    """A query string (``?k=v&...``) for the URL codec; anything else is the empty one."""
    return as_str(value)


def as_list(value: Any, limit: int = MAX_ITEMS) -> list:
    """A list (cut to ``limit`` items); anything else is the empty list."""
    return value[:limit] if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    """A dict; anything else is the empty dict."""
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str | None:
    """A control value as URL text for the codec: strings and numbers as written, lists of
    them comma-joined; None for anything else (nested lists, dicts, booleans)."""
    if isinstance(value, list):
        parts = [as_text(v) for v in as_list(value) if not isinstance(v, list)]
        return ",".join(p for p in parts if p is not None)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def first_point(event: Any) -> dict:
    """The first point of a plotly click / selection event (``{"points": [{...}]}``)."""
    points = as_list(as_dict(event).get("points"), 1)
    return as_dict(points[0]) if points else {}


def clicked_cell(event: Any, limit: int = 10_000) -> tuple[int, int] | None:
    """(row, column) = (y, x) of a click on a heatmap, both in ``[0, limit]``."""
    point = first_point(event)
    row, column = as_int(point.get("y"), 0, limit), as_int(point.get("x"), 0, limit)
    return None if row is None or column is None else (row, column)


def as_range(value: Any) -> tuple[float, float] | None:
    """Two finite floats (a plotly axis range ``[a, b]``)."""
    items = as_list(value, 3)
    if len(items) != 2:
        return None
    a, b = as_float(items[0]), as_float(items[1])
    return None if a is None or b is None else (a, b)


def selected_box(event: Any) -> tuple[float, float, float, float] | None:
    """(x0, x1, y0, y1) of a plotly box selection (``{"range": {"x": [..], "y": [..]}}``)."""
    box = as_dict(as_dict(event).get("range"))
    x, y = as_range(box.get("x")), as_range(box.get("y"))
    return None if x is None or y is None else (*x, *y)


def selected_ids(event: Any, limit: int = 500) -> list[int]:
    """Sorted distinct example ids (``customdata``) of a plotly lasso selection."""
    points = as_list(as_dict(event).get("points"), MAX_ITEMS)
    found = {as_int(as_dict(p).get("customdata"), 1) for p in points}
    return sorted(i for i in found if i is not None)[:limit]

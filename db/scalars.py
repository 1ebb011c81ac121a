"""Scalar parsers that never raise: 64-bit range-checked integers, finite floats, and text
without NUL or lone surrogates (no database stores them). Pure Python, no SQL: the dashboard's
callback inputs (``dashboard.inputs``, which figure builders use too) and the corpus filter's
grammar (``db.filter_grammar``) parse with them."""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar, overload

MAX_ID = 2**63 - 1  # the largest id a 64-bit INTEGER column holds
MAX_TEXT = 20_000  # longer strings are cut: a search string is a few hundred characters
_DECIMAL = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII digits only: no "٣", "1_000", "0x10"

T = TypeVar("T")


@overload
def as_int(value: Any, low: int = ..., high: int = ...) -> int | None: ...
@overload
def as_int(value: Any, low: int, high: int, default: T) -> int | T: ...
@overload
def as_int(value: Any, low: int = ..., high: int = ..., *, default: T) -> int | T: ...
def as_int(
    value: Any, low: int = 0, high: int = MAX_ID, default: T | None = None
) -> int | T | None:
    """An int in ``[low, high]`` from an int, an integral float or a decimal string."""
    if isinstance(value, bool):
        return default
    if isinstance(value, float):
        if not value.is_integer():  # also NaN and infinities
            return default
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            return default
        value = int(text)
    if not isinstance(value, int):
        return default
    return value if low <= value <= high else default


@overload
def as_float(value: Any) -> float | None: ...
@overload
def as_float(value: Any, default: T) -> float | T: ...
def as_float(value: Any, default: T | None = None) -> float | T | None:
    """A finite float from a number or a numeric string (no NaN, no infinities)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    if isinstance(value, str) and len(value) > 64:
        return default
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return default
    return number if math.isfinite(number) else default


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters, without NUL or lone surrogates (no database
    stores them; PostgreSQL rejects NUL and UTF-8 cannot encode a surrogate)."""
    text = text[:limit]
    if text.isascii():
        return text.replace("\x00", "")
    return text.encode("utf-8", "ignore").decode("utf-8").replace("\x00", "")

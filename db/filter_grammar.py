"""The corpus filter's text grammar, shared by the dashboard's URL codec and the read API.

A corpus filter travels as ``key=value`` pairs (a dashboard link's query string, or the keyword
arguments of ``attention_atlas.open(...).run(...).examples(...)``). This module owns the keys
and one parser per key (each returns the typed value or raises ``ValueError`` / ``KeyError``),
built on ``db.scalars`` (64-bit range-checked integers, finite floats, text without NUL or
lone surrogates). The dashboard's codec (``dashboard.urlstate``) falls back to
the default on a bad value; :func:`parse_filter` here is strict and raises :class:`FilterError`
naming the key, which is what a notebook wants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from attention_atlas.db import notes
from attention_atlas.db.queries import BANDS, SEGMENTS, CorpusFilter
from attention_atlas.db.scalars import as_float, as_int, clean_text
from attention_atlas.models import vocabulary

MAX_IDS = 500  # ids of one lasso selection


class FilterError(ValueError):
    """A corpus filter that does not parse: an unknown key or a malformed value."""


# -- one parser per key (raising ValueError / KeyError) -------------------------------------------
def _must(value: Any) -> Any:
    """A parser's None (the value did not parse) as a ValueError."""
    if value is None:
        raise ValueError("malformed")
    return value


def parse_int(value: str, low: int = 0) -> int:
    """An integer in ``[low, 2**63 - 1]``: anything bigger would overflow a SQL INTEGER."""
    return _must(as_int(value, low))


def parse_float(value: str) -> float:
    return _must(as_float(value))


def parse_ints(value: str) -> tuple[int, ...]:
    items = tuple(sorted({parse_int(v) for v in value.split(",") if v.strip()}))
    if len(items) > MAX_IDS:
        raise ValueError("too many ids")
    return items


def parse_text(value: str) -> str:
    return clean_text(value, 200).strip()


def parse_pair(value: str) -> tuple[str, str]:
    a, b = value.split(",")
    known = vocabulary.method_ids()
    if a == b or a not in known or b not in known:
        raise ValueError(value)
    return vocabulary.normalize_pair(a, b)


def parse_box(value: str) -> tuple[float, float, float, float]:
    x0, x1, y0, y1 = (parse_float(v) for v in value.split(","))
    return (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))


def parse_choice(options: tuple[str, ...] | Callable[[], tuple[str, ...]]) -> Callable[[str], str]:
    """A parser accepting one of ``options`` (a tuple, or a function read at parse time)."""

    def parse(value: str) -> str:
        if value not in (options() if callable(options) else options):
            raise ValueError(value)
        return value

    return parse


def parse_bool(value: str) -> bool:
    return {"1": True, "yes": True, "true": True, "0": False, "no": False, "false": False}[
        value.lower()
    ]


def parse_method(value: str) -> str:
    if value not in vocabulary.method_ids():
        raise ValueError(value)
    return value


def parse_thresholds(value: str) -> tuple[tuple[str, float], ...]:
    """``attention:0.5,ig:0.2`` -> ((method, value), ...) in registry order, one per method
    (the last one given wins)."""
    chosen: dict[str, float] = {}
    for part in value.split(","):
        if part.strip():
            method, _, number = part.strip().partition(":")
            chosen[parse_method(method)] = parse_float(number)
    if not chosen:
        raise ValueError(value)
    return tuple((m, chosen[m]) for m in vocabulary.in_order(chosen))


def format_thresholds(value: tuple[tuple[str, float], ...]) -> str:
    """The link text of :func:`parse_thresholds`' value."""
    return ",".join(f"{method}:{number:g}" for method, number in value)


def parse_tag(value: str) -> str:
    return notes.clean_tag(value)  # NoteError is a ValueError


def parse_correct(value: str) -> bool:
    return {"yes": True, "no": False}[value]


def _measures() -> tuple[str, ...]:
    return tuple(vocabulary.MEASURES)


def _plausibility_measures() -> tuple[str, ...]:
    return tuple(vocabulary.PLAUSIBILITY)


def parse_segment(value: str) -> int:
    """1 or 2: a sentence pair's first or second text."""
    segment = int(value)
    if segment not in SEGMENTS:
        raise ValueError(value)
    return segment


def parse_share(value: str) -> float:
    """A share of attribution mass, in [0, 1]."""
    share = parse_float(value)
    if not 0.0 <= share <= 1.0:
        raise ValueError(value)
    return share


# key -> (parser, CorpusFilter field); ``run`` picks the run and is checked by the caller
FILTER_KEYS: dict[str, tuple[Callable[[str], Any], str]] = {
    "run": (lambda v: parse_int(v, 1), "run_id"),
    "label": (parse_ints, "labels"),
    "pred": (parse_ints, "predictions"),
    "correct": (parse_correct, "correct"),
    "minlen": (lambda v: parse_int(v, 0), "min_length"),
    "maxlen": (lambda v: parse_int(v, 0), "max_length"),
    "q": (parse_text, "text"),
    "pair": (parse_pair, "pair"),
    "ypair": (parse_pair, "y_pair"),
    "measure": (parse_choice(_measures), "measure"),
    "agree": (parse_float, "agree"),
    "disagree": (parse_float, "disagree"),
    "band": (parse_choice(BANDS), "band"),
    "box": (parse_box, "box"),
    "ids": (parse_ints, "ids"),
    "tag": (parse_tag, "tag"),
    "pmeasure": (parse_choice(_plausibility_measures), "plaus_measure"),
    "pmin": (parse_thresholds, "plaus_min"),
    "pmax": (parse_thresholds, "plaus_max"),
    "pmethod": (parse_method, "plaus_method"),
    "share": (parse_method, "share"),
    "seg": (parse_segment, "segment"),
    "minshare": (parse_share, "min_share"),
    "maxshare": (parse_share, "max_share"),
}
# keys of a dashboard link that choose how its page shows the examples, not which ones: a link
# copied from any page parses (tests/test_read_api.py checks the codec has no other keys)
VIEW_KEYS = frozenset(
    "sort desc page color view specials layer head token ref methods density stat a b method "
    "sim source stack pfaith x imp".split()
)


def query_pairs(query: str) -> dict[str, str]:
    """``key -> value`` of a query string, ``?k=v&...`` or a whole link (its path, host and
    fragment are ignored); a repeated key: the last one wins."""
    query = clean_text(query).strip()
    if "?" in query or "://" in query or query.startswith("/"):
        query = urlsplit(query).query
    return dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))


def as_query_text(key: str, value: Any) -> str:
    """A keyword filter's Python value as the link's text (``correct=False`` -> ``no``,
    ``label=[0, 1]`` -> ``0,1``, ``pair=("attention", "ig")`` -> ``attention,ig``)."""
    if isinstance(value, bool):
        if key == "correct":
            return "yes" if value else "no"
        return "1" if value else "0"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return ",".join(as_query_text(key, v) for v in items)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_filter(values: Mapping[str, str], run_id: int) -> CorpusFilter:
    """The filter of run ``run_id`` that ``values`` (key -> link text) select; strict: an
    unknown key, a malformed value or a ``run`` other than ``run_id`` raise FilterError."""
    fields: dict[str, Any] = {}
    for key, text in values.items():
        if key in VIEW_KEYS:
            continue
        if key not in FILTER_KEYS:
            known = ", ".join(FILTER_KEYS)
            raise FilterError(f"unknown filter key {key!r}; the keys are {known}")
        parser, name = FILTER_KEYS[key]
        try:
            fields[name] = parser(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise FilterError(f"bad value {text!r} for filter key {key!r}") from exc
    chosen = fields.pop("run_id", run_id)
    if chosen != run_id:
        raise FilterError(f"the filter is for run {chosen}, not run {run_id}")
    return CorpusFilter(run_id=run_id, **fields)

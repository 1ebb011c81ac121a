"""Per-run stacks for the dashboard's aggregate views: every column or blob of a run read once.

The dashboard caches these per run (``dashboard.data.service``) and reduces them per filter
with numpy, which is faster than asking SQL to scan and join 25,000 rows on every request (and
SQL cannot look inside the array blobs at all). :func:`filter_mask` and :func:`table_order` are
the numpy twins of the SQL filter and sort in ``db.queries``; a test checks that both give the
same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Executable, LargeBinary, Row, select, type_coerce
from sqlalchemy.orm import QueryableAttribute, Session

from attention_atlas.db import curve_axes
from attention_atlas.db.queries import CorpusFilter, Counts
from attention_atlas.models import vocabulary
from attention_atlas.models.arrays import decode_array, decode_stacked
from attention_atlas.models.schema import (
    Agreement,
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
    StackAttention,
)


def _rows(session: Session, stmt: Executable) -> Sequence[Row[*tuple[Any, ...]]]:
    """All rows of a column select, through the session's connection: Core rows skip the ORM
    result layer, which doubles the cost of 25k-row reads on PostgreSQL."""
    return session.connection().execute(stmt).all()


@dataclass(frozen=True, eq=False)
class CorpusColumns:
    """The filterable columns of a run's examples, each [N] and aligned with ``ids`` (sorted).
    Missing values: label -1 with ``label_known`` False; correct -1 (unknown), 0 or 1."""

    ids: np.ndarray  # int64
    label: np.ndarray  # int64
    label_known: np.ndarray  # bool
    prediction: np.ndarray  # int64
    correct: np.ndarray  # int8
    length: np.ndarray  # int64
    confidence: np.ndarray  # float64
    text: tuple[str, ...]  # lower-cased, for substring search

    def __len__(self) -> int:
        return len(self.ids)


def stack_corpus(session: Session, run_id: int) -> CorpusColumns:
    """Every example of the run as :class:`CorpusColumns` (one query)."""
    stmt = (
        select(
            Example.id,
            Example.label,
            Example.prediction,
            Example.correct,
            Example.length,
            Example.confidence,
            Example.text,
        )
        .where(Example.run_id == run_id)
        .order_by(Example.id)
    )
    rows = _rows(session, stmt)
    n = len(rows)
    label = [r[1] for r in rows]
    correct = [r[3] for r in rows]
    return CorpusColumns(
        ids=np.fromiter((r[0] for r in rows), np.int64, n),
        label=np.fromiter((-1 if v is None else v for v in label), np.int64, n),
        label_known=np.fromiter((v is not None for v in label), bool, n),
        prediction=np.fromiter((r[2] for r in rows), np.int64, n),
        correct=np.fromiter((-1 if v is None else int(v) for v in correct), np.int8, n),
        length=np.fromiter((r[4] for r in rows), np.int64, n),
        confidence=np.fromiter((r[5] for r in rows), np.float64, n),
        text=tuple(r[6].lower() for r in rows),
    )


def stack_agreements(
    session: Session, run_id: int, pair: tuple[str, str], ids: np.ndarray
) -> np.ndarray:
    """[N, len(MEASURES)] float64: every measure of ``pair`` (columns in
    ``vocabulary.MEASURES`` order) aligned with the sorted example ``ids``; NaN where the pair
    is missing or undefined. One range scan of the covering (run, pair) index."""
    a, b = vocabulary.normalize_pair(*pair)
    measures = [getattr(Agreement, m) for m in vocabulary.MEASURES]
    stmt = select(Agreement.example_id, *measures).where(
        Agreement.run_id == run_id, Agreement.method_a == a, Agreement.method_b == b
    )
    rows = _rows(session, stmt)
    values = np.full((len(ids), len(measures)), np.nan)
    if rows:
        # tuples first: numpy reads Row objects element by element (30x slower); None -> NaN
        table = np.array([tuple(r) for r in rows], dtype=np.float64)
        found = table[:, 0].astype(np.int64)
        where = np.searchsorted(ids, found)
        inside = where < len(ids)
        inside[inside] = ids[where[inside]] == found[inside]
        values[where[inside]] = table[inside, 1:]
    return values


def stack_pair_shares(session: Session, run_id: int, method: str, ids: np.ndarray) -> np.ndarray:
    """[N] float64: each example's share of ``method``'s attribution mass on a sentence pair's
    second text, aligned with the sorted example ``ids``; NaN where there is none (single
    texts, rows stored before revision 0007)."""
    stmt = (
        select(Attribution.example_id, Attribution.pair_share)
        .join(Example, Example.id == Attribution.example_id)
        .where(Example.run_id == run_id, Attribution.method == method)
    )
    values = np.full(len(ids), np.nan)
    rows = _rows(session, stmt)
    if rows:
        table = np.array([tuple(r) for r in rows], dtype=np.float64)  # None -> NaN
        found = table[:, 0].astype(np.int64)
        where = np.searchsorted(ids, found)
        inside = where < len(ids)
        inside[inside] = ids[where[inside]] == found[inside]
        values[where[inside]] = table[inside, 1]
    return values


def segment_share(second: np.ndarray | None, f: CorpusFilter, n: int) -> np.ndarray:
    """[N] the share on text ``f.segment`` from the second text's shares ([N], or None
    without a method: all NaN), as ``db.queries.share_column`` computes it."""
    if second is None or f.share is None:
        return np.full(n, np.nan)
    return second if f.segment == 2 else 1.0 - second


def measure_column(measure: str) -> int:
    """The column of ``measure`` in :func:`stack_agreements`."""
    return list(vocabulary.MEASURES).index(measure)


def base_key(f: CorpusFilter) -> tuple:
    """The part of a filter :func:`base_mask` reads (a cache key)."""
    return (
        f.run_id,
        f.labels,
        f.predictions,
        f.correct,
        f.min_length,
        f.max_length,
        f.text,
        f.tag,
        f.tagged,
        f.plaus_measure,
        f.plaus_min,
        f.plaus_max,
        f.share if f.min_share is not None or f.max_share is not None else None,
        f.segment,
        f.min_share,
        f.max_share,
    )


def base_mask(
    c: CorpusColumns, f: CorpusFilter, second_share: np.ndarray | None = None
) -> np.ndarray:
    """[N] bool: the rows passing the example-level filters of ``f`` (labels, predictions,
    correctness, length, tag, segment share, text), before the agreement band and the scatter
    selection. ``second_share``: [N] :func:`stack_pair_shares` of ``f.share`` (None: none)."""
    mask = np.ones(len(c), dtype=bool)
    if f.min_share is not None or f.max_share is not None:
        values = segment_share(second_share, f, len(c))
        with np.errstate(invalid="ignore"):
            if f.min_share is not None:
                mask &= values >= f.min_share
            if f.max_share is not None:
                mask &= values <= f.max_share
    if f.labels:
        mask &= c.label_known & np.isin(c.label, list(f.labels))
    if f.predictions:
        mask &= np.isin(c.prediction, list(f.predictions))
    if f.correct is not None:
        mask &= c.correct == int(f.correct)
    if f.min_length is not None:
        mask &= c.length >= f.min_length
    if f.max_length is not None:
        mask &= c.length <= f.max_length
    if f.tag:  # ``tagged`` resolved by the caller; unresolved means no example is known tagged
        mask &= np.isin(c.ids, np.asarray(f.tagged or (), dtype=np.int64))
    if f.text:  # last, and only on the rows still in: the one test that reads every byte
        needle, text = f.text.lower(), c.text
        rows = np.flatnonzero(mask)
        mask[rows] = np.fromiter((needle in text[i] for i in rows.tolist()), bool, len(rows))
    return mask


@dataclass(frozen=True, eq=False)
class PlausibilityStack:
    """A run's plausibility rows aligned with its sorted example ``ids`` ([N], the corpus
    columns' ids): ``values`` [N, M, len(vocabulary.PLAUSIBILITY)], NaN where an example has
    no rationale (or a measure is undefined); ``methods`` [M] in registry order, random last."""

    ids: np.ndarray
    methods: list[str]
    values: np.ndarray

    def of(self, method: str, measure: str) -> np.ndarray:
        """[N] ``measure`` of ``method`` (all NaN when the run has no such rows)."""
        if method not in self.methods:
            return np.full(len(self.ids), np.nan)
        column = list(vocabulary.PLAUSIBILITY).index(measure)
        return self.values[:, self.methods.index(method), column]


def plausibility_mask(stack: PlausibilityStack, f: CorpusFilter) -> np.ndarray:
    """[N] bool: the rows passing ``f``'s plausibility thresholds (the SQL ``IN`` twins)."""
    mask = np.ones(len(stack.ids), dtype=bool)
    with np.errstate(invalid="ignore"):
        for method, value in f.plaus_min:
            mask &= stack.of(method, f.plaus_measure) >= value
        for method, value in f.plaus_max:
            mask &= stack.of(method, f.plaus_measure) <= value
    return mask


def selection_mask(
    c: CorpusColumns, f: CorpusFilter, x: np.ndarray, y: np.ndarray | None
) -> np.ndarray:
    """[N] bool: the rows in ``f``'s agreement band, box (needs ``y``) and id selection."""
    mask = np.ones(len(c), dtype=bool)
    with np.errstate(invalid="ignore"):
        if f.band == "agree":
            mask &= x >= f.agree
        elif f.band == "disagree":
            mask &= x <= f.disagree
        elif f.band == "between":
            mask &= (x > f.disagree) & (x < f.agree)
        if f.box is not None and y is not None:
            x0, x1, y0, y1 = f.box
            mask &= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    if f.ids:
        mask &= np.isin(c.ids, list(f.ids))
    return mask


def filter_mask(
    c: CorpusColumns,
    f: CorpusFilter,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    selection: bool = True,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """[N] bool: the examples of ``c`` in filter ``f`` (``x`` / ``y``: [N] agreement values
    of ``f.pair`` / ``f.y_pair``; ``y`` is only read by a box selection), as in SQL.
    ``base``: :func:`base_mask` of ``f`` when the caller has it cached."""
    mask = base_mask(c, f) if base is None else base.copy()
    if selection:
        mask &= selection_mask(c, f, x, y)
    return mask


def counts(
    c: CorpusColumns,
    f: CorpusFilter,
    x: np.ndarray,
    y: np.ndarray | None,
    base: np.ndarray | None = None,
) -> Counts:
    """Total in the filter, and the agree / between / disagree split before band and selection
    (:func:`attention_atlas.db.queries.corpus_counts` in numpy)."""
    base = base_mask(c, f) if base is None else base
    xs = x[base]
    with np.errstate(invalid="ignore"):
        return Counts(
            int((base & selection_mask(c, f, x, y)).sum()),
            int((xs >= f.agree).sum()),
            int(((xs > f.disagree) & (xs < f.agree)).sum()),
            int((xs <= f.disagree).sum()),
        )


def table_order(
    c: CorpusColumns,
    mask: np.ndarray,
    sort: str,
    descending: bool,
    x: np.ndarray,
    y: np.ndarray | None,
    plaus: np.ndarray | None = None,
    share: np.ndarray | None = None,
) -> np.ndarray:
    """Ids ([M] int64) of the masked rows in table order: ``sort`` column ascending or
    descending with missing values last, ties by id (as ``ORDER BY ... NULLS LAST, id``);
    ``plaus`` [N] is the ``plaus`` column, ``share`` [N] the filter's segment share (None:
    sorting by it sorts by id)."""
    keys = {
        "label": np.where(c.label_known, c.label, np.nan),
        "prediction": c.prediction,
        "confidence": c.confidence,
        "correct": np.where(c.correct >= 0, c.correct, np.nan),
        "length": c.length,
        "x": x,
        "y": y,
        "plaus": plaus,
        "share": share,
    }
    ids = c.ids[mask]
    key = keys.get(sort)
    if key is None:  # by id
        return ids[::-1] if descending else ids
    key = np.asarray(key, dtype=np.float64)[mask]
    missing = np.isnan(key)
    value = np.where(missing, 0.0, -key if descending else key)
    return ids[np.lexsort((ids, value, missing))]


def _raw(column: QueryableAttribute[Any]) -> ColumnElement[bytes]:
    """The column's stored bytes, not decoded one by one (see :func:`_stacked`)."""
    return type_coerce(column, LargeBinary)


def _stacked(blobs: list) -> np.ndarray:
    """[n, ...] from array blobs of one shape: one ``np.frombuffer`` over all of them."""
    return decode_stacked(blobs)


def stack_head_grids(
    session: Session, run_id: int, reference: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """(ids [N] sorted, grids [N, L, H]) of every example of the run with ``reference`` scores."""
    stmt = (
        select(HeadScore.example_id, _raw(HeadScore.grid))
        .where(HeadScore.run_id == run_id, HeadScore.reference == reference)
        .order_by(HeadScore.example_id)
    )
    rows = _rows(session, stmt)
    if not rows:
        return np.zeros(0, dtype=np.int64), None
    return np.array([r[0] for r in rows], dtype=np.int64), _stacked([r[1] for r in rows])


def stack_sink_shares(
    session: Session, run_id: int, stack: str = vocabulary.MAIN_STACK
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(ids [N], first [N, L, H], special [N, L, H]): share of the prediction position's
    attention on the first token and on all special tokens, per head (stored at ingest), in
    ``stack`` (an encoder-decoder run's decoder or cross-attention: ``stack_attention``)."""
    table: Any = Attention if stack == vocabulary.MAIN_STACK else StackAttention
    stmt = (
        select(table.example_id, _raw(table.first_share), _raw(table.special_share))
        .join(Example, Example.id == table.example_id)
        .where(Example.run_id == run_id)
        .order_by(table.example_id)
    )
    if table is StackAttention:
        stmt = stmt.where(StackAttention.stack == stack)
    rows = _rows(session, stmt)
    if not rows:
        return np.zeros(0, dtype=np.int64), None, None
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, _stacked([r[1] for r in rows]), _stacked([r[2] for r in rows])


@dataclass(frozen=True, eq=False)
class FaithfulnessStack:
    """A run's faithfulness rows as arrays over (example, method); NaN where missing."""

    ids: np.ndarray  # [N] sorted example ids
    methods: list[str]  # [M], registry order, random last
    comprehensiveness: np.ndarray  # [N, M]
    sufficiency: np.ndarray  # [N, M]
    deletion: np.ndarray  # [N, M, G] on the run's deletion grid, NaN past a shorter curve
    k: np.ndarray  # [G] tokens deleted at each grid point (``models.deletion_grid``)
    content: np.ndarray  # [N] content tokens of each example (k / content: deleted fraction)


def _curves_by_length(blobs: list, rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(row indices, curves [k, W]) per group of equally long curve blobs among ``rows``."""
    lengths = np.fromiter((len(blobs[i]) for i in rows.tolist()), np.int64, len(rows))
    groups = []
    for length in np.unique(lengths):
        pick = rows[lengths == length]
        try:
            groups.append((pick, _stacked([blobs[i] for i in pick.tolist()])))
        except ValueError:  # same byte length, different shapes (compressed): one by one
            groups += [(pick[k : k + 1], decode_array(blobs[i])[None]) for k, i in enumerate(pick)]
    return groups


def stack_faithfulness(session: Session, run_id: int) -> FaithfulnessStack:
    """Every faithfulness row of the run, one query (see :class:`FaithfulnessStack`)."""
    stmt = select(
        Faithfulness.example_id,
        Faithfulness.method,
        Faithfulness.comprehensiveness,
        Faithfulness.sufficiency,
        _raw(Faithfulness.deletion),
    ).where(Faithfulness.run_id == run_id)
    rows = _rows(session, stmt)
    n = len(rows)
    example = np.fromiter((r[0] for r in rows), np.int64, n)
    ids = np.unique(example)
    present = {r[1] for r in rows}
    methods = [m for m in vocabulary.with_random_last(present) if m in present]
    col = {m: i for i, m in enumerate(methods)}
    column = np.fromiter((col.get(r[1], -1) for r in rows), np.int64, n)
    kept = np.flatnonzero(column >= 0)  # rows of a method this version knows
    row_of, column = np.searchsorted(ids, example)[kept], column[kept]
    comp = np.full((len(ids), len(methods)), np.nan)
    suff = np.full((len(ids), len(methods)), np.nan)
    comp[row_of, column] = np.fromiter((rows[i][2] for i in kept.tolist()), np.float64, len(kept))
    suff[row_of, column] = np.fromiter((rows[i][3] for i in kept.tolist()), np.float64, len(kept))
    groups = _curves_by_length([r[4] for r in rows], kept)
    width = max((block.shape[1] for _, block in groups), default=0)
    curves = np.full((len(ids), len(methods), width), np.nan, dtype=np.float32)
    position = np.full(n, -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    for pick, block in groups:
        at = position[pick]
        curves[row_of[at], column[at], : block.shape[1]] = block
    k = curve_axes.run_grid(session, run_id).first(width)
    content = curve_axes.content_tokens(session, run_id, ids)
    return FaithfulnessStack(ids, methods, comp, suff, curves, k, content)


def stack_deletion(
    session: Session, run_id: int
) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """(ids [N], methods [M], curves [N, M, K+1]) deletion curves, NaN where missing/shorter;
    None for the curves when the run has none."""
    stack = stack_faithfulness(session, run_id)
    if not len(stack.ids):
        return stack.ids, [], None
    return stack.ids, stack.methods, stack.deletion


def rows_of(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """[N] bool over sorted ``ids``: which are in ``wanted`` (any order)."""
    wanted = np.asarray(wanted, dtype=np.int64)
    where = np.searchsorted(ids, wanted)
    inside = where < len(ids)
    inside[inside] = ids[where[inside]] == wanted[inside]
    mask = np.zeros(len(ids), dtype=bool)
    mask[where[inside]] = True
    return mask


def take(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (aligned with sorted ``ids``) whose id is in ``wanted``."""
    return values[rows_of(ids, wanted)]

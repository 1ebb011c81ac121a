"""Read-side queries for the dashboard: a ``Session`` in, DataFrames / numpy / dataclasses out.

Filtering, counting, sorting and paging happen in SQL so a run of 25,000 examples stays fast;
only the rows of one page (or the columns of one scatter) come back. ORM objects never leave
this module. One example's rows: ``db.example_queries``; a run's decoded arrays for the
aggregate views: ``attention_atlas.db.stacks``.

Agreement pairs are stored with ``method_a`` before ``method_b`` in the vocabulary's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, null, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from attention_atlas.models import vocabulary
from attention_atlas.models.schema import (
    Agreement,
    Attribution,
    Example,
    Faithfulness,
    Note,
    NoteTag,
    Plausibility,
    Run,
    RunShard,
)

BANDS = ("all", "agree", "between", "disagree")
SORT_COLUMNS = (
    "id",
    "label",
    "prediction",
    "confidence",
    "correct",
    "length",
    "x",
    "y",
    "plaus",
    "share",
)
# a plausibility threshold of the corpus filter: (method, value) of ``plaus_measure``
Threshold = tuple[str, float]
SEGMENTS = (1, 2)  # a sentence pair's first and second text
SNIPPET_CHARS = 140


@dataclass(frozen=True)
class CorpusFilter:
    """Which examples of a run are in view. ``pair``/``measure`` give the agreement value ``x``
    that ``agree``/``disagree`` thresholds cut into bands; ``y_pair`` gives the scatter's ``y``;
    ``box`` (x0, x1, y0, y1) and ``ids`` are the scatter's box / lasso selection."""

    run_id: int
    labels: tuple[int, ...] = ()
    predictions: tuple[int, ...] = ()
    correct: bool | None = None
    min_length: int | None = None
    max_length: int | None = None
    text: str = ""
    pair: tuple[str, str] = vocabulary.DEFAULT_PAIR
    y_pair: tuple[str, str] = vocabulary.DEFAULT_Y_PAIR
    measure: str = "spearman"
    agree: float = 0.5
    disagree: float = 0.0
    band: str = "all"
    box: tuple[float, float, float, float] | None = None
    ids: tuple[int, ...] = field(default=())
    # examples a reader's note tags with ``tag``; ``tagged`` holds their ids (sorted) once
    # resolved for one request (the numpy path; SQL joins the notes itself)
    tag: str = ""
    tagged: tuple[int, ...] | None = None
    # plausibility against the human rationale: ``plaus_measure`` of each method at least /
    # at most its threshold (examples without a rationale never pass one); ``plaus_method``'s
    # value is the table's ``plaus`` column (the sort ``plaus``)
    plaus_measure: str = "auprc"
    plaus_min: tuple[Threshold, ...] = ()
    plaus_max: tuple[Threshold, ...] = ()
    plaus_method: str | None = None
    # sentence pairs: ``share`` (a method id) gives each example's share of that method's
    # attribution mass on text ``segment`` (1 or 2); ``min_share`` / ``max_share`` cut it;
    # it is the table's ``share`` column and sort
    share: str | None = None
    segment: int = 2
    min_share: float | None = None
    max_share: float | None = None

    def without_selection(self) -> CorpusFilter:
        return replace(self, box=None, ids=(), band="all")


@dataclass(frozen=True)
class RunInfo:
    id: int
    name: str
    checkpoint: str
    dataset: str
    label_names: list[str]
    methods: list[str]
    num_layers: int
    num_heads: int
    n_examples: int
    updated_at: str
    settings: dict = field(default_factory=dict, compare=False, hash=False)  # as ingested

    @property
    def stacks(self) -> tuple[str, ...]:
        """The attention stacks of an encoder-decoder run in vocabulary order (``()`` for a
        one-stack model)."""
        shapes = self.settings.get("stack_shapes") or {}
        return tuple(s for s in vocabulary.STACKS if s in shapes)

    def shape_of(self, stack: str) -> tuple[int, int]:
        """(layers, heads) of ``stack``; the run's own shape for the main stack or a one-stack
        run."""
        shape = (self.settings.get("stack_shapes") or {}).get(stack)
        if stack == vocabulary.MAIN_STACK or not shape:
            return self.num_layers, self.num_heads
        return int(shape[0]), int(shape[1])


@dataclass(frozen=True)
class Counts:
    total: int  # matching every filter, band and selection included
    agree: int  # of the examples before band/selection
    between: int
    disagree: int


@dataclass(frozen=True)
class RunSummary:
    """One line of ``attention-atlas runs`` and of the dashboard's run dropdown."""

    id: int
    name: str
    checkpoint: str
    dataset: str
    split: str | None
    adapter: str
    status: str
    n_source: int
    n_done: int  # examples stored (kept equal to their count, batch by batch)
    n_skipped: int
    seconds: float
    methods: tuple[str, ...]
    updated_at: datetime
    shards: tuple[int, int] | None = None  # (done, total) for a run ingested with --shard I/N


def list_runs(session: Session) -> list[RunSummary]:
    """Every run, oldest first."""
    shards = run_shards(session)
    return [
        RunSummary(
            id=r.id,
            name=r.name,
            checkpoint=r.checkpoint,
            dataset=r.dataset,
            split=r.split,
            adapter=r.adapter,
            status=r.status,
            n_source=r.n_source,
            n_done=r.n_done,
            n_skipped=r.n_skipped,
            seconds=r.seconds,
            methods=tuple(r.methods),
            updated_at=r.updated_at,
            shards=shards.get(r.id),
        )
        for r in session.scalars(select(Run).order_by(Run.id))
    ]


def run_shards(session: Session) -> dict[int, tuple[int, int]]:
    """Run id -> (shards complete, shards in all) for runs ingested with ``--shard I/N`` (the
    newest N when a run was sharded more than one way)."""
    out: dict[int, tuple[int, int]] = {}
    rows = session.execute(
        select(RunShard.run_id, RunShard.shard_count, RunShard.status).order_by(RunShard.id)
    )
    for run_id, count, status in rows:
        done, total = out.get(run_id, (0, count))
        if total != count:
            done, total = 0, count
        out[run_id] = (done + (status == "complete"), total)
    return out


def get_run(session: Session, run_id: int | None) -> RunInfo | None:
    """The run ``run_id`` (or the newest run when None); None when there is none. One
    statement: every callback asks, so it is one round trip on PostgreSQL."""
    count = select(func.count()).where(Example.run_id == Run.id).scalar_subquery()
    stmt = select(Run, count)
    stmt = stmt.where(Run.id == run_id) if run_id is not None else stmt.order_by(Run.id.desc())
    row = session.execute(stmt.limit(1)).first()
    if row is None:
        return None
    run, n = row
    return RunInfo(
        run.id,
        run.name,
        run.checkpoint,
        run.dataset,
        list(run.label_names),
        list(run.methods),
        run.num_layers,
        run.num_heads,
        n,
        str(run.updated_at),
        dict(run.settings or {}),
    )


# A SELECT column for _filtered: an expression, or a function of the x / y agreement columns
# (the aliased joins _filtered makes) returning an expression or a tuple of them.
XY = Callable[[ColumnElement[Any], ColumnElement[Any]], Any]
ColumnSpec = ColumnElement[Any] | InstrumentedAttribute[Any] | XY


def _pair_join(stmt: Select, alias: type[Agreement], pair: tuple[str, str]) -> Select:
    a, b = vocabulary.normalize_pair(*pair)
    on = and_(alias.example_id == Example.id, alias.method_a == a, alias.method_b == b)
    return stmt.outerjoin(alias, on)


def _filtered(
    f: CorpusFilter, *columns: ColumnSpec, need_y: bool = True, selection: bool = True
) -> tuple[Select, ColumnElement[Any], ColumnElement[Any]]:
    """SELECT ``columns`` (may use the returned x / y agreement columns) over the filter.
    The y join is skipped when neither the columns nor the box need it (half the lookups);
    ``selection=False`` leaves band / box / ids out of the WHERE clause."""
    need_y = need_y or f.box is not None
    ax, ay = aliased(Agreement), aliased(Agreement)
    x, y = getattr(ax, f.measure).label("x"), getattr(ay, f.measure).label("y")
    built = [c(x, y) if callable(c) else c for c in columns]
    flat = [part for c in built for part in (c if isinstance(c, tuple) else (c,))]
    stmt = select(*flat).select_from(Example)
    stmt = _pair_join(stmt, ax, f.pair)
    if need_y:
        stmt = _pair_join(stmt, ay, f.y_pair)
    stmt = stmt.where(Example.run_id == f.run_id, *_base_conditions(f))
    if selection:
        stmt = stmt.where(*_selection_conditions(f, x, y))
    return stmt, x, y


def filter_select(f: CorpusFilter) -> Select:
    """``SELECT examples.id`` of the filter's examples, to nest as ``id IN (...)`` in reads of
    other tables (the read API's per-example tables; no id list travels to the database)."""
    stmt, _, _ = _filtered(f, Example.id, need_y=False)
    return stmt


def _base_conditions(f: CorpusFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.labels:
        conditions.append(Example.label.in_(f.labels))
    if f.predictions:
        conditions.append(Example.prediction.in_(f.predictions))
    if f.correct is not None:
        conditions.append(Example.correct.is_(f.correct))
    if f.min_length is not None:
        conditions.append(Example.length >= f.min_length)
    if f.max_length is not None:
        conditions.append(Example.length <= f.max_length)
    if f.text:
        conditions.append(Example.text.icontains(f.text, autoescape=True))
    if f.tag:
        tagged = select(Note.example_id).join(NoteTag, NoteTag.note_id == Note.id)
        conditions.append(Example.id.in_(tagged.where(NoteTag.tag == f.tag)))
    share = share_column(f)
    if f.min_share is not None:
        conditions.append(share >= f.min_share)
    if f.max_share is not None:
        conditions.append(share <= f.max_share)
    return conditions + _plausibility_conditions(f)


def _plausibility_conditions(f: CorpusFilter) -> list[ColumnElement[bool]]:
    measure = getattr(Plausibility, f.plaus_measure)
    conditions: list[ColumnElement[bool]] = []
    for thresholds, passes in ((f.plaus_min, measure.__ge__), (f.plaus_max, measure.__le__)):
        for method, value in thresholds:
            rows = select(Plausibility.example_id).where(
                Plausibility.run_id == f.run_id, Plausibility.method == method, passes(value)
            )
            conditions.append(Example.id.in_(rows))
    return conditions


def plausibility_column(f: CorpusFilter) -> ColumnElement[Any]:
    """``plaus_measure`` of ``plaus_method`` for each example row (NULL without either)."""
    return _plaus_value(f).label("plaus")


def _plaus_value(f: CorpusFilter) -> ColumnElement[Any]:
    if f.plaus_method is None:
        return literal(None)
    value = select(getattr(Plausibility, f.plaus_measure)).where(
        Plausibility.example_id == Example.id, Plausibility.method == f.plaus_method
    )
    return value.scalar_subquery()


def _plaus_sort(f: CorpusFilter) -> ColumnElement[Any] | None:
    """The ``plaus`` sort's column; None (by id) without ``plaus_method``."""
    return _plaus_value(f) if f.plaus_method is not None else None


def share_column(f: CorpusFilter) -> ColumnElement[Any]:
    """The example's share of method ``f.share``'s attribution mass on text ``f.segment``
    (a correlated read of its attribution row, by the (example, method) unique index); NULL
    without a method, for single texts and for rows stored before revision 0007."""
    if f.share is None:
        return null().label("share")
    stored = (
        select(Attribution.pair_share)
        .where(Attribution.example_id == Example.id, Attribution.method == f.share)
        .scalar_subquery()
    )
    return (stored if f.segment == 2 else 1.0 - stored).label("share")


def _selection_conditions(
    f: CorpusFilter, x: ColumnElement[Any], y: ColumnElement[Any]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.band == "agree":
        conditions.append(x >= f.agree)
    elif f.band == "disagree":
        conditions.append(x <= f.disagree)
    elif f.band == "between":
        conditions.append(and_(x > f.disagree, x < f.agree))
    if f.box is not None:
        x0, x1, y0, y1 = f.box
        conditions.append(and_(x.between(x0, x1), y.between(y0, y1)))
    if f.ids:
        conditions.append(Example.id.in_(f.ids))
    return conditions


def _x(x: ColumnElement[Any], _y: ColumnElement[Any]) -> ColumnElement[Any]:
    return x


def _y(_x: ColumnElement[Any], y: ColumnElement[Any]) -> ColumnElement[Any]:
    return y


TABLE_COLUMNS = [
    "id",
    "source_index",
    "snippet",
    "label",
    "prediction",
    "confidence",
    "correct",
    "length",
    "x",
    "y",
    "share",
    "plaus",
]


PAIR_JOINER = " ‖ "  # between a sentence pair's two texts in the table's snippet


def _shown_text() -> ColumnElement[str]:
    """The text as the table shows it: a sentence pair's two texts joined by
    :data:`PAIR_JOINER` (a NULL second text leaves the first alone)."""
    return Example.text + func.coalesce(PAIR_JOINER + Example.text_pair, "")


def _table_columns(f: CorpusFilter) -> list[ColumnSpec]:
    return [
        Example.id,
        Example.source_index,
        func.substr(_shown_text(), 1, SNIPPET_CHARS).label("snippet"),
        Example.label,
        Example.prediction,
        Example.confidence,
        Example.correct,
        Example.length,
        _x,
        _y,
        share_column(f),
    ]


def _order(
    stmt: Select,
    f: CorpusFilter,
    sort: str,
    descending: bool,
    x: ColumnElement[Any],
    y: ColumnElement[Any],
    plaus: ColumnElement[Any] | None = None,
) -> Select:
    columns = {
        "id": Example.id,
        "label": Example.label,
        "prediction": Example.prediction,
        "confidence": Example.confidence,
        "correct": Example.correct,
        "length": Example.length,
        "x": x,
        "y": y,
        "plaus": plaus if plaus is not None else Example.id,
        "share": share_column(f) if f.share is not None else Example.id,
    }
    column = columns.get(sort, Example.id)
    primary = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return stmt.order_by(primary, Example.id)


def corpus_page(
    session: Session,
    f: CorpusFilter,
    sort: str = "id",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> pd.DataFrame:
    """One page of the filtered table, sorted in SQL; columns :data:`TABLE_COLUMNS`.

    Two statements: the page's ids from the covering indexes (a sort keeps only ids, not the
    text snippets of every matching row), then those rows by primary key. ``dashboard.data.service``
    pages through its cached ordered ids instead, without an OFFSET scan."""
    stmt, x, y = _filtered(f, Example.id, need_y=sort == "y")
    stmt = _order(stmt, f, sort, descending, x, y, _plaus_sort(f))
    stmt = stmt.offset(max(offset, 0)).limit(limit)
    return corpus_rows(session, f, session.scalars(stmt).all())


def corpus_rows(session: Session, f: CorpusFilter, ids: Iterable[int]) -> pd.DataFrame:
    """The table rows ([:data:`TABLE_COLUMNS`]) of the example ``ids`` ([n] ints, a page of
    an ordered id list), in that order; ``x`` / ``y`` from ``f``'s pairs and measure."""
    ids = [int(i) for i in ids]
    if not ids:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    ax, ay = aliased(Agreement), aliased(Agreement)
    x, y = getattr(ax, f.measure).label("x"), getattr(ay, f.measure).label("y")
    columns = [c(x, y) if callable(c) else c for c in _table_columns(f)]
    columns.append(plausibility_column(f))
    stmt = _pair_join(_pair_join(select(*columns).select_from(Example), ax, f.pair), ay, f.y_pair)
    found = {row[0]: row for row in session.execute(stmt.where(Example.id.in_(ids)))}
    return pd.DataFrame([found[i] for i in ids if i in found], columns=TABLE_COLUMNS)


def corpus_all(
    session: Session, f: CorpusFilter, sort: str = "id", descending: bool = False
) -> pd.DataFrame:
    """Every filtered row (for the CSV download), full text instead of the snippet."""
    columns = [*_table_columns(f), plausibility_column(f)]
    columns[2] = Example.text.label("snippet")
    stmt, x, y = _filtered(f, *columns)
    stmt = _order(stmt, f, sort, descending, x, y, _plaus_sort(f))
    frame = pd.DataFrame(session.execute(stmt).all(), columns=TABLE_COLUMNS)
    return frame.rename(columns={"snippet": "text"})


def filtered_ids(
    session: Session, f: CorpusFilter, sort: str = "id", descending: bool = False
) -> np.ndarray:
    """Example ids ([N] int64) of the filter in table order (for previous / next)."""
    stmt, x, y = _filtered(f, Example.id, need_y=sort == "y")
    rows = session.scalars(_order(stmt, f, sort, descending, x, y, _plaus_sort(f))).all()
    return np.asarray(rows, dtype=np.int64)


def corpus_counts(session: Session, f: CorpusFilter) -> Counts:
    """Total matching rows, and the agree / between / disagree split before band/selection,
    in one scan."""

    def sums(x: ColumnElement[Any], y: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
        chosen = _selection_conditions(f, x, y)
        return (
            func.sum(case((and_(*chosen), 1), else_=0)) if chosen else func.count(),
            func.sum(case((x >= f.agree, 1), else_=0)),
            func.sum(case((and_(x > f.disagree, x < f.agree), 1), else_=0)),
            func.sum(case((x <= f.disagree, 1), else_=0)),
        )

    stmt, _, _ = _filtered(f, sums, need_y=False, selection=False)
    total, agree, between, disagree = session.execute(stmt).one()
    return Counts(int(total or 0), int(agree or 0), int(between or 0), int(disagree or 0))


def scatter_points(session: Session, f: CorpusFilter) -> pd.DataFrame:
    """id, x, y, correct of every example in the filter (selection and band ignored), by id."""
    stmt, _, _ = _filtered(f.without_selection(), Example.id, _x, _y, Example.correct)
    rows = session.execute(stmt.order_by(Example.id)).all()
    frame = pd.DataFrame(rows, columns=["id", "x", "y", "correct"])
    return frame.dropna(subset=["x", "y"])


def faithfulness_table(session: Session, f: CorpusFilter) -> pd.DataFrame:
    """Per method: n, mean comprehensiveness and sufficiency over the filter (AVG in SQL)."""
    ids, _, _ = _filtered(f, Example.id, need_y=False)
    stmt = (
        select(
            Faithfulness.method,
            func.count(),
            func.avg(Faithfulness.comprehensiveness),
            func.avg(Faithfulness.sufficiency),
        )
        .where(Faithfulness.run_id == f.run_id, Faithfulness.example_id.in_(ids.scalar_subquery()))
        .group_by(Faithfulness.method)
    )
    return pd.DataFrame(
        session.execute(stmt).all(), columns=["method", "n", "comprehensiveness", "sufficiency"]
    )

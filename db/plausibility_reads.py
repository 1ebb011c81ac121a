"""The SQL reads behind plausibility (human rationales): a run's plausibility rows as one
stack (``db.stacks.PlausibilityStack``, cached per run by the dashboard), one example's
rationale and rows, and the per-filter means in SQL (the numpy path's reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attention_atlas.db.queries import CorpusFilter, filter_select
from attention_atlas.db.stacks import PlausibilityStack
from attention_atlas.models import vocabulary
from attention_atlas.models.schema import Plausibility, Rationale

MEASURES = tuple(vocabulary.PLAUSIBILITY)
COLUMNS = ["method", *MEASURES]


@dataclass(frozen=True, eq=False)
class RationaleInfo:
    """One example's human rationale: ``mask`` [T] bool over its tokens, ``marked`` tokens,
    ``cut`` marked characters lost to truncation."""

    mask: np.ndarray
    marked: int
    cut: int


def stack_plausibility(session: Session, run_id: int, ids: np.ndarray) -> PlausibilityStack:
    """Every plausibility row of the run aligned with the sorted example ``ids`` [N]."""
    measures = [getattr(Plausibility, m) for m in MEASURES]
    stmt = select(Plausibility.example_id, Plausibility.method, *measures)
    rows = session.connection().execute(stmt.where(Plausibility.run_id == run_id)).all()
    present = {r[1] for r in rows}
    methods = [m for m in vocabulary.with_random_last(present) if m in present]
    values = np.full((len(ids), len(methods), len(MEASURES)), np.nan)
    if rows:
        column = {m: i for i, m in enumerate(methods)}
        example = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        where = np.minimum(np.searchsorted(ids, example), max(len(ids) - 1, 0))
        for row, at in zip(rows, where.tolist(), strict=True):
            if len(ids) and ids[at] == row[0] and row[1] in column:
                values[at, column[row[1]]] = [np.nan if v is None else v for v in row[2:]]
    return PlausibilityStack(ids, methods, values)


def example_rationale(session: Session, example_id: int) -> RationaleInfo | None:
    """The example's rationale (None when it has none)."""
    row = session.get(Rationale, example_id)
    if row is None:
        return None
    return RationaleInfo(np.asarray(row.mask, dtype=bool), row.marked, row.cut)


def example_plausibility(session: Session, example_id: int) -> pd.DataFrame:
    """[:data:`COLUMNS`] one row per method of the example, registry order, random last."""
    stmt = select(Plausibility.method, *(getattr(Plausibility, m) for m in MEASURES))
    rows = session.execute(stmt.where(Plausibility.example_id == example_id)).all()
    order = {m: i for i, m in enumerate(vocabulary.with_random_last(r[0] for r in rows))}
    return pd.DataFrame(sorted(rows, key=lambda r: order[r[0]]), columns=COLUMNS)


def plausibility_table(session: Session, f: CorpusFilter) -> pd.DataFrame:
    """Per method: n (examples with a rationale) and the mean of each measure over the
    filter (AVG in SQL, NULLs skipped)."""
    stmt = (
        select(
            Plausibility.method,
            func.count(),
            *(func.avg(getattr(Plausibility, m)) for m in MEASURES),
        )
        .where(Plausibility.run_id == f.run_id)
        .where(Plausibility.example_id.in_(filter_select(f).scalar_subquery()))
        .group_by(Plausibility.method)
    )
    return pd.DataFrame(session.execute(stmt).all(), columns=["method", "n", *MEASURES])


def rationale_rows(session: Session, f: CorpusFilter) -> pd.DataFrame:
    """example_id, marked, cut, mask ([T] bool) of the filter's examples with a rationale."""
    stmt = select(Rationale.example_id, Rationale.marked, Rationale.cut, Rationale.mask)
    stmt = stmt.where(Rationale.example_id.in_(filter_select(f).scalar_subquery()))
    rows = session.execute(stmt.order_by(Rationale.example_id)).all()
    return pd.DataFrame(rows, columns=["example_id", "marked", "cut", "mask"])

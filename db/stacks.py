"""Per-run stacks for the dashboard's aggregate views: every blob of a run decoded once.

The dashboard caches these per run (``dashboard.data``) and reduces them per filter with numpy,
which is faster than asking SQL for arrays it cannot look inside.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import vocabulary
from models.schema import Attention, Example, Faithfulness, HeadScore


def stack_head_grids(session: Session, run_id: int, reference: str):
    """(ids [N] sorted, grids [N, L, H]) of every example of the run with ``reference`` scores."""
    stmt = (
        select(HeadScore.example_id, HeadScore.grid)
        .where(HeadScore.run_id == run_id, HeadScore.reference == reference)
        .order_by(HeadScore.example_id)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), None
    return np.array([r[0] for r in rows], dtype=np.int64), np.stack([r[1] for r in rows])


def stack_sink_shares(session: Session, run_id: int):
    """(ids [N], first [N, L, H], special [N, L, H]): share of the prediction position's
    attention on the first token and on all special tokens, per head (stored at ingest)."""
    stmt = (
        select(Attention.example_id, Attention.first_share, Attention.special_share)
        .join(Example, Example.id == Attention.example_id)
        .where(Example.run_id == run_id)
        .order_by(Attention.example_id)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), None, None
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, np.stack([r[1] for r in rows]), np.stack([r[2] for r in rows])


def stack_deletion(session: Session, run_id: int):
    """(ids [N], methods [M], curves [N, M, K+1]) deletion curves, NaN where missing/shorter."""
    stmt = (
        select(Faithfulness.example_id, Faithfulness.method, Faithfulness.deletion)
        .where(Faithfulness.run_id == run_id)
        .order_by(Faithfulness.example_id)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), [], None
    ids = np.unique(np.array([r[0] for r in rows], dtype=np.int64))
    methods = vocabulary.with_random_last(r[1] for r in rows)
    methods = [m for m in methods if any(r[1] == m for r in rows)]
    width = max(len(r[2]) for r in rows)
    curves = np.full((len(ids), len(methods), width), np.nan, dtype=np.float32)
    row_of = np.searchsorted(ids, [r[0] for r in rows])
    col = {m: i for i, m in enumerate(methods)}
    for i, (_, method, curve) in zip(row_of, rows, strict=True):
        curves[i, col[method], : len(curve)] = curve
    return ids, methods, curves


def take(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (aligned with sorted ``ids``) whose id is in ``wanted``."""
    mask = np.isin(ids, wanted, assume_unique=False)
    return values[mask]

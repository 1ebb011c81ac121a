"""What a run's deletion curves are plotted against, read from the store: the k of each curve
point (the run's recorded deletion grid, ``models.deletion_grid``; runs stored before it have
k = 0..min(20, n)) and each example's number of content tokens n, which turns k into the
deleted fraction k / n. Both are read once per run, beside the curves themselves
(``db.stacks.stack_faithfulness``, ``db.accuracy_reads.stack_curves``).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import LargeBinary, select, type_coerce
from sqlalchemy.orm import Session

from attention_atlas.models.arrays import decode_array, decode_stacked
from attention_atlas.models.deletion_grid import DeletionGrid, grid_of
from attention_atlas.models.schema import Example, Run


def run_grid(session: Session, run_id: int) -> DeletionGrid:
    """The grid the run's curves are stored on (``LEGACY`` for runs stored before it)."""
    settings = session.scalar(select(Run.settings).where(Run.id == run_id))
    return grid_of(settings)


def content_tokens(session: Session, run_id: int, ids: np.ndarray) -> np.ndarray:
    """[N] content tokens (not special, not prompt) of the examples ``ids`` [N] sorted; 0 for
    an id the run does not hold."""
    stmt = (
        select(Example.id, type_coerce(Example.special_mask, LargeBinary))
        .where(Example.run_id == run_id)
        .order_by(Example.id)
    )
    rows = session.connection().execute(stmt).all()
    stored = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    counts = _content_counts([r[1] for r in rows])
    out = np.zeros(len(ids), dtype=np.int64)
    where = np.searchsorted(stored, ids).clip(0, max(len(stored) - 1, 0))
    found = (stored[where] == ids) if len(stored) else np.zeros(len(ids), bool)
    out[found] = counts[where[found]]
    return out


def _content_counts(blobs: list[bytes]) -> np.ndarray:
    """[n] count of False in each special-mask blob: one decode per group of equal lengths."""
    out = np.zeros(len(blobs), dtype=np.int64)
    lengths = np.fromiter((len(b) for b in blobs), np.int64, len(blobs))
    for length in np.unique(lengths):
        pick = np.flatnonzero(lengths == length)
        try:
            masks = decode_stacked([blobs[i] for i in pick.tolist()])
            out[pick] = (~masks.astype(bool)).sum(axis=1)
        except ValueError:  # compressed or differently shaped blobs: one by one
            for i in pick.tolist():
                out[i] = int((~decode_array(blobs[i]).astype(bool)).sum())
    return out

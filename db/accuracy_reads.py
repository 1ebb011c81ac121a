"""The SQL reads behind the faithfulness page's accuracy curves and consistency test: each
reads one run's stored blobs once, in one query, into the arrays ``db.analysis`` reduces
(the dashboard caches them per run, ``dashboard.data.accuracy``).

:func:`stack_curves` decodes the ``deletion_same`` / ``deletion_bottom`` /
``deletion_bottom_same`` blobs into a ``CurveStack`` (``db.analysis.accuracy_curves``; runs
ingested before revision 0003 have NULL there: their stack says so), with the run's deletion
grid and each example's content tokens (``db.curve_axes``);
:func:`stack_top_vectors` reads a method's top-5 vectors (``TopVector``), the consistency
test's input, and :func:`vector_methods` the methods that have them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, LargeBinary, select, type_coerce
from sqlalchemy.orm import Session

from attention_atlas.db import curve_axes
from attention_atlas.db.analysis.accuracy_curves import CurveStack
from attention_atlas.models import vocabulary
from attention_atlas.models.arrays import decode_array, decode_stacked
from attention_atlas.models.schema import Faithfulness, TopVector

CURVE_COLUMNS = ("deletion_same", "deletion_bottom", "deletion_bottom_same")


def _raw(column: ColumnElement[Any]) -> ColumnElement[bytes]:
    """The column as raw bytes: decoded in bulk here, not row by row by ``NumpyArray``."""
    return type_coerce(column, LargeBinary)


def _fill(out: np.ndarray, blobs: list, rows: np.ndarray, cols: np.ndarray) -> None:
    """Decode ``blobs`` (None = not stored) into ``out[rows[i], cols[i], :len]``: one
    ``frombuffer`` per group of equally long blobs (compressed or odd ones one by one)."""
    present = np.flatnonzero(np.fromiter((b is not None for b in blobs), bool, len(blobs)))
    lengths = np.fromiter((len(blobs[i]) for i in present.tolist()), np.int64, len(present))
    for length in np.unique(lengths):
        pick = present[lengths == length]
        try:
            block = decode_stacked([blobs[i] for i in pick.tolist()])
        except ValueError:
            for i in pick.tolist():
                curve = decode_array(blobs[i])
                out[rows[i], cols[i], : len(curve)] = curve
            continue
        out[rows[pick], cols[pick], : block.shape[1]] = block


def stack_curves(session: Session, run_id: int) -> CurveStack:
    """Every stored accuracy / bottom curve of the run, one query (see :class:`CurveStack`)."""
    stmt = select(
        Faithfulness.example_id,
        Faithfulness.method,
        *(_raw(getattr(Faithfulness, c)) for c in CURVE_COLUMNS),
    ).where(Faithfulness.run_id == run_id)
    rows = [r for r in session.connection().execute(stmt).all() if vocabulary.info(r[1])]
    ids = np.unique(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
    present = {r[1] for r in rows}
    methods = [m for m in vocabulary.with_random_last(present) if m in present]
    col = {m: i for i, m in enumerate(methods)}
    row_of = np.searchsorted(ids, np.fromiter((r[0] for r in rows), np.int64, len(rows)))
    column = np.fromiter((col[r[1]] for r in rows), np.int64, len(rows))
    width = _longest(rows)
    arrays = [np.full((len(ids), len(methods), width), np.nan, np.float32) for _ in CURVE_COLUMNS]
    for index, out in enumerate(arrays):
        _fill(out, [r[2 + index] for r in rows], row_of, column)
    same, bottom, bottom_same = arrays
    k = curve_axes.run_grid(session, run_id).first(width)
    content = curve_axes.content_tokens(session, run_id, ids)
    return CurveStack(ids, methods, same, bottom, bottom_same, k, content)


def _longest(rows: list) -> int:
    """K + 1 of the longest stored curve (blobs of one dtype grow with their length)."""
    blobs = [r[2] for r in rows if r[2] is not None]
    if not blobs:
        return 0
    return len(decode_array(max(blobs, key=len)))


def stack_top_vectors(
    session: Session, run_id: int, method: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """(ids [N] sorted, vectors [N, D] float16 or None) of ``method``'s stored top-5 vectors."""
    stmt = (
        select(TopVector.example_id, type_coerce(TopVector.vector, LargeBinary))
        .where(TopVector.run_id == run_id, TopVector.method == method)
        .order_by(TopVector.example_id)
    )
    rows = session.connection().execute(stmt).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), None
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return ids, decode_stacked([r[1] for r in rows])


def vector_methods(session: Session, run_id: int) -> list[str]:
    """Methods with stored top-5 vectors in the run (unordered ids)."""
    stmt = select(TopVector.method).where(TopVector.run_id == run_id).distinct()
    return list(session.scalars(stmt))

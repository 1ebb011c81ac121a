"""The grid of k (tokens deleted) on which a run stores its deletion curves, shared by ingest
(which evaluates the curves there) and the read side (which plots them against k and against
the deleted fraction).

Karpekov & Miller delete up to 100-300 tokens of IMDb reviews; deleting every k up to there
would cost a forward pass per k, per method. The grid is every k up to ``dense`` (20), then
``per_doubling`` points per doubling of k (4: 20, 24, 28, 34, 40, 48, ...), and an example's
curve stops at the first grid point at or past ``reach`` of its content tokens (half of them),
or at all of them when it has no more than ``dense``. Every example's k values are therefore a
prefix of one axis (:meth:`DeletionGrid.axis`), so curves of examples of any length line up
index by index.

Runs ingested before the grid have curves at k = 0..min(20, n): that is :data:`LEGACY`, the
same axis with ``reach`` 0, and it is what :func:`grid_of` returns for a run whose settings do
not record a grid. So an old store reads unchanged: its curves are a shorter prefix.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SETTINGS_KEY = "deletion_grid"  # where a run's settings record its grid


@dataclass(frozen=True)
class DeletionGrid:
    """Every k up to ``dense``, then ``per_doubling`` points per doubling; an example of n
    content tokens stops at the first point >= max(min(dense, n), ceil(reach * n))."""

    dense: int = 20
    per_doubling: int = 4
    reach: float = 0.5

    def stop(self, n: int) -> int:
        """The k an example of ``n`` content tokens must reach (its curve's last k, up to the
        rounding of the log-spaced part)."""
        return max(min(self.dense, n), math.ceil(self.reach * n))

    def _points(self) -> Iterator[int]:
        """0, 1, ..., dense, then dense * 2^(j / per_doubling) rounded, j = 1, 2, ... (each
        point once)."""
        yield from range(self.dense + 1)
        last, step = self.dense, 1
        while True:
            k = round(self.dense * 2 ** (step / self.per_doubling))
            if k > last:
                yield k
                last = k
            step += 1

    def axis(self, upto: int) -> np.ndarray:
        """[G] int64 the grid's points from 0 through the first one >= ``upto``."""
        points = []
        for k in self._points():
            points.append(k)
            if k >= upto:
                break
        return np.asarray(points, dtype=np.int64)

    def first(self, count: int) -> np.ndarray:
        """[count] int64 the grid's first ``count`` points: the k of curve indexes 0..count-1."""
        return np.fromiter(itertools.islice(self._points(), count), np.int64, count)

    def ks(self, n: int) -> np.ndarray:
        """[K+1] int64 the k values of an example of ``n`` content tokens (k <= n always)."""
        return np.minimum(self.axis(self.stop(n)), n)

    def describe(self) -> str:
        """The grid in words, for the run's provenance line."""
        if not self.reach:
            return f"k = 0..{self.dense}"
        return (
            f"every k to {self.dense}, then {self.per_doubling} per doubling, "
            f"to {self.reach:.0%} of the content tokens"
        )

    def provenance(self) -> dict[str, Any]:
        """The grid as recorded on a run (``Run.settings[SETTINGS_KEY]``)."""
        return asdict(self)


GRID = DeletionGrid()  # what ingest stores today
LEGACY = DeletionGrid(reach=0.0)  # runs stored before the grid: k = 0..min(20, n)


def grid_of(settings: dict[str, Any] | None) -> DeletionGrid:
    """The grid a run's curves are stored on, from its settings (:data:`LEGACY` when absent or
    unreadable: such a run was stored before the grid was recorded)."""
    recorded = (settings or {}).get(SETTINGS_KEY)
    if not isinstance(recorded, dict):
        return LEGACY
    try:
        grid = DeletionGrid(
            dense=int(recorded["dense"]),
            per_doubling=int(recorded["per_doubling"]),
            reach=float(recorded["reach"]),
        )
    except (KeyError, TypeError, ValueError):
        return LEGACY
    usable = grid.dense >= 1 and grid.per_doubling >= 1 and 0 <= grid.reach <= 1
    return grid if usable else LEGACY  # a grid with no next point would never end

"""The dashboard's read-only data service: a read-only engine plus per-run / per-filter caches.

Callbacks get it with :func:`service` (it lives on the Flask app, not in a global). Heavy work
is cached: per run the stacked head grids, sink shares and deletion curves (every blob decoded
once), per (run, filter) the ordered id list and the reduced grids. Cache keys include the run's
``updated_at`` and example count, so a run that ingest is still writing is re-read when it grows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import flask
import numpy as np
from sqlalchemy.orm import Session

from db import example_queries, queries, stacks
from db.engine import make_engine, session_factory

EXTENSION = "attention_atlas"


class LRU:
    """A small thread-safe LRU cache of computed values."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


@dataclass(frozen=True)
class HeadsSummary:
    """Mean / std over examples of a per-head statistic: [L, H] each, ``n`` examples."""

    mean: np.ndarray | None
    std: np.ndarray | None
    n: int


class AtlasData:
    """Everything callbacks read, opened read-only on ``db_url``."""

    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url, readonly=True)
        self.sessions = session_factory(self.engine)
        self.stacks = LRU(12)
        self.filters = LRU(128)
        self.examples = LRU(16)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def run(self, run_id: int | None) -> queries.RunInfo | None:
        with self.session() as session:
            return queries.get_run(session, run_id)

    def _version(self, run: queries.RunInfo) -> tuple:
        return (run.id, run.updated_at, run.n_examples)

    def ids(self, run: queries.RunInfo, f: queries.CorpusFilter, sort: str, desc: bool):
        """Filtered example ids in table order, [N] int64 (cached per run + filter)."""

        def compute() -> np.ndarray:
            with self.session() as session:
                return queries.filtered_ids(session, f, sort, desc)

        return self.filters.get(("ids", self._version(run), f, sort, desc), compute)

    def counts(self, run: queries.RunInfo, f: queries.CorpusFilter) -> queries.Counts:
        """Agree / between / disagree counts of a filter (cached per run + filter)."""

        def compute() -> queries.Counts:
            with self.session() as session:
                return queries.corpus_counts(session, f)

        return self.filters.get(("counts", self._version(run), f), compute)

    def head_stack(self, run: queries.RunInfo, reference: str):
        def compute():  # noqa: ANN202
            with self.session() as session:
                return stacks.stack_head_grids(session, run.id, reference)

        return self.stacks.get(("heads", self._version(run), reference), compute)

    def sink_stack(self, run: queries.RunInfo):
        def compute():  # noqa: ANN202
            with self.session() as session:
                return stacks.stack_sink_shares(session, run.id)

        return self.stacks.get(("sink", self._version(run)), compute)

    def deletion_stack(self, run: queries.RunInfo):
        def compute():  # noqa: ANN202
            with self.session() as session:
                return stacks.stack_deletion(session, run.id)

        return self.stacks.get(("deletion", self._version(run)), compute)

    def heads_summary(
        self, run: queries.RunInfo, f: queries.CorpusFilter, reference: str, stat: str
    ) -> HeadsSummary:
        """Mean and std over the filtered examples of rho (``stat='rho'``) or sink share."""

        def compute() -> HeadsSummary:
            wanted = self.ids(run, f, "id", False)
            if stat == "rho":
                ids, values = self.head_stack(run, reference)
            else:
                ids, first, special = self.sink_stack(run)
                values = first if stat == "first" else special
            if values is None or len(wanted) == 0:
                return HeadsSummary(None, None, 0)
            subset = stacks.take(ids, values, wanted)
            if len(subset) == 0:
                return HeadsSummary(None, None, 0)
            return HeadsSummary(subset.mean(axis=0), subset.std(axis=0), len(subset))

        key = ("summary", self._version(run), f, reference, stat)
        return self.filters.get(key, compute)

    def head_extremes(self, run, f, reference: str, layer: int, head: int, k: int = 8):  # noqa: ANN001
        """(ids of the k examples where head (layer, head) agrees most, ... least), rho values."""
        wanted = self.ids(run, f, "id", False)
        ids, grids = self.head_stack(run, reference)
        if grids is None:
            return [], []
        mask = np.isin(ids, wanted)
        values = grids[mask, layer, head]
        chosen = ids[mask]
        order = np.argsort(-values, kind="stable")
        top, bottom = order[:k], order[::-1][:k]
        return (
            [(int(chosen[i]), float(values[i])) for i in top],
            [(int(chosen[i]), float(values[i])) for i in bottom],
        )

    def attention(self, example_id: int):
        """(rows, full) of one example, cached: decompressing ``full`` is the slow part."""

        def compute():  # noqa: ANN202
            with self.session() as session:
                return example_queries.example_attention(session, example_id)

        return self.examples.get(("attention", example_id), compute)


def service() -> AtlasData:
    """The data service of the Flask app handling the current request."""
    return flask.current_app.extensions[EXTENSION]

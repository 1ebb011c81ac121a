"""The dashboard's read-only data service: a read-only engine plus per-run / per-filter caches.

Callbacks get it with :func:`service` (it lives on the Flask app, not in a global). Heavy work
is cached: per run the filterable columns of every example, one array per agreement pair and
measure, the stacked head grids, sink shares and faithfulness rows (every blob decoded once);
per (run, filter) the ordered id list, the counts and the reduced grids. A filter is then numpy
over [N] arrays (``db.stacks``: the same rows and order as the SQL in ``db.queries``, a test
checks it) and SQL only fetches the rows one page shows. Cache keys include the run's
``updated_at`` and example count, so a run that ingest is still writing is re-read when it grows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import flask
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from attention_atlas.db import example_queries, notes, queries, stacks
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.models import vocabulary

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
    """Everything callbacks read, opened read-only on ``db_url``.

    Whole-run work (filter, count, sort, average) runs in numpy over per-run cached columns
    and stacks (``db.stacks``); SQL fetches what one page shows (``db.queries``)."""

    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url, readonly=True)
        self.sessions = session_factory(self.engine)
        self.stacks = LRU(12)
        self.corpora = LRU(4)  # filterable columns and lower-cased texts: the largest stacks
        self.agreements = LRU(24)  # one [N, measures] array per (run, pair): 1.2 MB at 25k
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

    def _stacked(self, cache: LRU, key: tuple, build: Callable[[Session], Any]) -> Any:
        def compute() -> Any:
            with self.session() as session:
                return build(session)

        return cache.get(key, compute)

    def corpus(self, run: queries.RunInfo) -> stacks.CorpusColumns:
        """The run's filterable columns (cached per run)."""
        key = ("corpus", self._version(run))
        return self._stacked(self.corpora, key, lambda s: stacks.stack_corpus(s, run.id))

    def agreement(self, run: queries.RunInfo, pair: tuple[str, str], measure: str) -> np.ndarray:
        """[N] ``measure`` of ``pair`` aligned with :meth:`corpus` ids (every measure of a pair
        is read and cached at once: switching measure costs nothing)."""
        ids = self.corpus(run).ids
        pair = vocabulary.normalize_pair(*pair)
        key = ("agreements", self._version(run), pair)
        table = self._stacked(
            self.agreements, key, lambda s: stacks.stack_agreements(s, run.id, pair, ids)
        )
        return table[:, stacks.measure_column(measure)]

    def _xy(self, run: queries.RunInfo, f: queries.CorpusFilter, need_y: bool):
        x = self.agreement(run, f.pair, f.measure)
        y = self.agreement(run, f.y_pair, f.measure) if need_y or f.box else None
        return x, y

    def with_tag(self, run: queries.RunInfo, f: queries.CorpusFilter) -> queries.CorpusFilter:
        """``f`` with the ids its tag selects read now (one indexed query, never cached: a
        note added a moment ago counts). The ids are part of every cache key built from ``f``,
        so a cached list of a tag filter is never served after the tag's examples change."""
        if not f.tag or f.tagged is not None:
            return f
        with self.session() as session:
            tagged = notes.example_ids_with_tag(session, run.id, f.tag)
        return replace(f, tagged=tuple(tagged.tolist()))

    def _base(self, run: queries.RunInfo, f: queries.CorpusFilter) -> np.ndarray:
        """:func:`db.stacks.base_mask` of ``f``, cached: the table's counts and ids, the
        scatter, heads and faithfulness of one filter share it (the text search is its cost)."""
        key = ("base", self._version(run), stacks.base_key(f))
        return self.filters.get(key, lambda: stacks.base_mask(self.corpus(run), f))

    def ids(self, run: queries.RunInfo, f: queries.CorpusFilter, sort: str, desc: bool):
        """Filtered example ids in table order, [N] int64 (cached per run + filter)."""
        f = self.with_tag(run, f)

        def compute() -> np.ndarray:
            corpus = self.corpus(run)
            x, y = self._xy(run, f, sort == "y")
            mask = stacks.filter_mask(corpus, f, x, y, base=self._base(run, f))
            return stacks.table_order(corpus, mask, sort, desc, x, y)

        return self.filters.get(("ids", self._version(run), f, sort, desc), compute)

    def counts(self, run: queries.RunInfo, f: queries.CorpusFilter) -> queries.Counts:
        """Agree / between / disagree counts of a filter (cached per run + filter)."""
        f = self.with_tag(run, f)

        def compute() -> queries.Counts:
            x, y = self._xy(run, f, False)
            return stacks.counts(self.corpus(run), f, x, y, self._base(run, f))

        return self.filters.get(("counts", self._version(run), f), compute)

    def page(
        self,
        run: queries.RunInfo,
        f: queries.CorpusFilter,
        sort: str = "id",
        desc: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> pd.DataFrame:
        """One page of the table (as :func:`db.queries.corpus_page`): the ids come from the
        cached ordered list, so a deep page costs what the first one does (no OFFSET scan)."""
        chosen = self.ids(run, f, sort, desc)[max(offset, 0) : max(offset, 0) + max(limit, 0)]
        with self.session() as session:
            return queries.corpus_rows(session, f, chosen)

    def scatter_points(self, run: queries.RunInfo, f: queries.CorpusFilter) -> pd.DataFrame:
        """id, x, y, correct of every example in the filter, selection and band ignored
        (as :func:`attention_atlas.db.queries.scatter_points`)."""
        f = self.with_tag(run, f.without_selection())
        corpus = self.corpus(run)
        x, y = self._xy(run, f, True)
        mask = self._base(run, f) & ~np.isnan(x) & ~np.isnan(y)
        correct = np.array([None, False, True], dtype=object)[corpus.correct[mask] + 1]
        return pd.DataFrame(
            {"id": corpus.ids[mask], "x": x[mask], "y": y[mask], "correct": correct}
        )

    def faithfulness(self, run: queries.RunInfo) -> stacks.FaithfulnessStack:
        key = ("faithfulness", self._version(run))
        return self._stacked(self.stacks, key, lambda s: stacks.stack_faithfulness(s, run.id))

    def deletion_stack(self, run: queries.RunInfo):
        """(ids [N], methods [M], curves [N, M, K+1] or None), as ``stacks.stack_deletion``."""
        stack = self.faithfulness(run)
        if not len(stack.ids):
            return stack.ids, [], None
        return stack.ids, stack.methods, stack.deletion

    def faithfulness_table(self, run: queries.RunInfo, f: queries.CorpusFilter) -> pd.DataFrame:
        """As :func:`db.queries.faithfulness_table` (n, mean comprehensiveness and sufficiency
        per method over the filter), from the cached per-run stack."""
        stack = self.faithfulness(run)
        rows = stacks.rows_of(stack.ids, self.ids(run, f, "id", False))
        comp, suff = stack.comprehensiveness[rows], stack.sufficiency[rows]
        present = ~np.isnan(comp)
        n = present.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_c = np.where(present, comp, 0).sum(axis=0) / n
            mean_s = np.where(present, suff, 0).sum(axis=0) / n
        keep = n > 0
        return pd.DataFrame(
            {
                "method": [m for m, k in zip(stack.methods, keep, strict=True) if k],
                "n": n[keep].astype(int),
                "comprehensiveness": mean_c[keep],
                "sufficiency": mean_s[keep],
            }
        )

    def head_stack(self, run: queries.RunInfo, reference: str):
        key = ("heads", self._version(run), reference)
        return self._stacked(
            self.stacks, key, lambda s: stacks.stack_head_grids(s, run.id, reference)
        )

    def sink_stack(self, run: queries.RunInfo):
        key = ("sink", self._version(run))
        return self._stacked(self.stacks, key, lambda s: stacks.stack_sink_shares(s, run.id))

    def heads_summary(
        self, run: queries.RunInfo, f: queries.CorpusFilter, reference: str, stat: str
    ) -> HeadsSummary:
        """Mean and std over the filtered examples of rho (``stat='rho'``) or sink share."""
        f = self.with_tag(run, f)

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

    def head_extremes(self, run, f, reference: str, layer: int, head: int, k: int = 8):
        """(ids of the k examples where head (layer, head) agrees most, ... least), rho values."""
        wanted = self.ids(run, f, "id", False)
        ids, grids = self.head_stack(run, reference)
        if grids is None:
            return [], []
        mask = stacks.rows_of(ids, wanted)
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

        def compute():
            with self.session() as session:
                return example_queries.example_attention(session, example_id)

        return self.examples.get(("attention", example_id), compute)


def service() -> AtlasData:
    """The data service of the Flask app handling the current request."""
    return flask.current_app.extensions[EXTENSION]

"""The data service's one cache holder: entries grouped by the run they were computed from.

A run's entries (its stacks: columns, agreements, head grids, sink shares, faithfulness,
accuracy curves, top-5 vectors; and what filters reduce them to) live together under the run,
and an LRU over runs keeps the last :data:`RUNS` of them, so the two runs of the compare page,
or a run and the one a reader opens next, never evict each other's entries. Each group is
tagged with the run's version (:func:`run_version`: id, ``updated_at``, example count): when a
run that ingest is still writing grows, the next read replaces its group and nothing stale is
served. Entries that span two runs (the compare page's similarity) and per-example entries have
an LRU of their own. Values are computed outside the lock (two threads may both compute a
missing value; one is kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from attention_atlas.db.queries import RunInfo

T = TypeVar("T")
RunVersion = tuple[int, str, int]

RUNS = 4  # runs whose entries are kept (the compare page reads two at once)
STACKS_PER_RUN = 96  # whole-run stacks: one per kind, reference (every method), method or pair
FILTERS_PER_RUN = 128  # per-filter results (ordered ids, counts, reduced grids, curves)
PAIRS = 8  # run-vs-run similarities
EXAMPLES = 16  # decoded attention of single examples


def run_version(run: RunInfo) -> RunVersion:
    """What identifies the data a run's entries were computed from: a run that grows (ingest
    still writing) gets a new version."""
    return (run.id, run.updated_at, run.n_examples)


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of the holder: look-ups answered from the cache (``hits``), values computed
    (``misses``), and the versions of the runs held, least recently used first."""

    hits: int
    misses: int
    runs: tuple[RunVersion, ...]


class LRU:
    """A small thread-safe LRU of computed values that counts its hits and misses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class _RunEntries:
    """One run version's entries: its stacks and its per-filter results."""

    def __init__(self, version: RunVersion) -> None:
        self.version = version
        self.stacks = LRU(STACKS_PER_RUN)
        self.filters = LRU(FILTERS_PER_RUN)


class AtlasCache:
    """Every cached value of the data service, reached through named methods only."""

    def __init__(self, runs: int = RUNS) -> None:
        self._runs: OrderedDict[int, _RunEntries] = OrderedDict()
        self._size = runs
        self._lock = threading.Lock()
        self._pairs = LRU(PAIRS)
        self._examples = LRU(EXAMPLES)
        self._dropped = (0, 0)  # hits and misses of groups no longer held

    def _entries(self, run: RunInfo) -> _RunEntries:
        version = run_version(run)
        with self._lock:
            entries = self._runs.get(run.id)
            if entries is None or entries.version != version:
                if entries is not None:
                    self._forget(entries)
                entries = self._runs[run.id] = _RunEntries(version)
            self._runs.move_to_end(run.id)
            while len(self._runs) > self._size:
                self._forget(self._runs.popitem(last=False)[1])
            return entries

    def _forget(self, entries: _RunEntries) -> None:
        hits = entries.stacks.hits + entries.filters.hits
        misses = entries.stacks.misses + entries.filters.misses
        self._dropped = (self._dropped[0] + hits, self._dropped[1] + misses)

    def run_stack(self, run: RunInfo, key: Hashable, compute: Callable[[], T]) -> T:
        """A whole-run value (a stack read from the store) of ``run``'s current version."""
        return self._entries(run).stacks.get(key, compute)

    def run_filter(self, run: RunInfo, key: Hashable, compute: Callable[[], T]) -> T:
        """A value of one filter of ``run`` (``key`` names the filter); the last
        :data:`FILTERS_PER_RUN` of each run are kept."""
        return self._entries(run).filters.get(key, compute)

    def run_pair(self, a: RunInfo, b: RunInfo, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed from two runs, kept per pair of run versions."""
        return self._pairs.get((run_version(a), run_version(b), key), compute)

    def example(self, example_id: int, key: Hashable, compute: Callable[[], T]) -> T:
        """A value of one example (examples do not change once stored)."""
        return self._examples.get((example_id, key), compute)

    def stats(self) -> CacheStats:
        with self._lock:
            groups = list(self._runs.values())
            hits, misses = self._dropped
        lrus = [self._pairs, self._examples]
        lrus += [lru for entries in groups for lru in (entries.stacks, entries.filters)]
        return CacheStats(
            hits=hits + sum(lru.hits for lru in lrus),
            misses=misses + sum(lru.misses for lru in lrus),
            runs=tuple(entries.version for entries in groups),
        )

"""The dashboard's data service: one read-only engine, one cache holder, every read a page makes.

Callbacks get it with :func:`service` (it lives on the Flask app, not in a global) and read
through its named methods; no page opens a session. Heavy work is cached in one
:class:`~attention_atlas.dashboard.data.cache.AtlasCache`, grouped by run: per run the
filterable columns of every example, one array per agreement pair and measure, the stacked head
grids, sink shares, faithfulness rows, accuracy curves and top-5 vectors (every blob decoded
once); per (run, filter) the ordered id list, the counts and the reduced grids; per pair of runs
their similarity. A filter is then numpy over [N] arrays (``db.stacks``: the same rows and order
as the SQL in ``db.queries``, a test checks it) and SQL only fetches the rows one page shows.
Cache entries are tagged with the run's ``updated_at`` and example count, so a run that ingest
is still writing is re-read when it grows. Notes, tags and single examples are read uncached:
a note added a moment ago shows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Concatenate, ParamSpec, TypeVar

import flask
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from attention_atlas.dashboard.data.cache import AtlasCache, CacheStats
from attention_atlas.db import (
    accuracy_reads,
    compare,
    example_queries,
    notes,
    plausibility_reads,
    queries,
    stacks,
)
from attention_atlas.db.analysis.accuracy_curves import CurveStack
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.models import vocabulary

EXTENSION = "attention_atlas"
P = ParamSpec("P")
T = TypeVar("T")


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

    def __init__(self, db_url: str | None, cache: AtlasCache | None = None) -> None:
        self._engine = make_engine(db_url, readonly=True)
        self._sessions = session_factory(self._engine)
        self._cache = cache or AtlasCache()

    # -- connections and the cache ---------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only session, for a caller that makes several reads of its own in one (an
        export, a benchmark); pages use the named reads below."""
        with self._sessions() as session:
            yield session

    def _read(
        self, query: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        with self.session() as session:
            return query(session, *args, **kwargs)

    def after_fork(self) -> None:
        """Drop the pooled connections a forked worker inherited (without closing them: they
        are the parent's); the worker opens its own."""
        self._engine.dispose(close=False)

    def close(self) -> None:
        """Close every pooled connection (the service stays usable: it reconnects)."""
        self._engine.dispose()

    def cache_stats(self) -> CacheStats:
        """Hits, misses and the run versions the cache holds now."""
        return self._cache.stats()

    def _stack(self, run: queries.RunInfo, key: Hashable, build: Callable[[Session], T]) -> T:
        return self._cache.run_stack(run, key, lambda: self._read(build))

    def per_filter(self, run: queries.RunInfo, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, a value derived from ``run``'s stacks for one filter, cached with the
        run's per-filter results; ``key`` names everything it depends on besides the run."""
        return self._cache.run_filter(run, key, compute)

    def run_stack(self, run: queries.RunInfo, key: Hashable, build: Callable[[Session], T]) -> T:
        """``build(session)``, a whole-run read, cached with the run's stacks under ``key``
        (for reads that live beside their page, such as ``dashboard.data.heads``)."""
        return self._stack(run, key, build)

    # -- runs ---------------------------------------------------------------------------------
    def run(self, run_id: int | None) -> queries.RunInfo | None:
        """The run ``run_id`` (the newest when None), read now."""
        return self._read(queries.get_run, run_id)

    def runs(self) -> list[queries.RunSummary]:
        """Every run, oldest first."""
        return self._read(queries.list_runs)

    # -- per-run stacks (cached) ------------------------------------------------------------
    def corpus(self, run: queries.RunInfo) -> stacks.CorpusColumns:
        """The run's filterable columns."""
        return self._stack(run, "corpus", lambda s: stacks.stack_corpus(s, run.id))

    def agreement(self, run: queries.RunInfo, pair: tuple[str, str], measure: str) -> np.ndarray:
        """[N] ``measure`` of ``pair`` aligned with :meth:`corpus` ids (every measure of a pair
        is read and cached at once: switching measure costs nothing)."""
        ids = self.corpus(run).ids
        pair = vocabulary.normalize_pair(*pair)
        table = self._stack(
            run, ("agreements", pair), lambda s: stacks.stack_agreements(s, run.id, pair, ids)
        )
        return table[:, stacks.measure_column(measure)]

    def pair_shares(self, run: queries.RunInfo, method: str | None) -> np.ndarray | None:
        """[N] share of ``method``'s attribution mass on a sentence pair's second text,
        aligned with :meth:`corpus` ids (NaN where none is stored); None without a method."""
        if method is None:
            return None
        ids = self.corpus(run).ids
        return self._stack(
            run, ("pair-shares", method), lambda s: stacks.stack_pair_shares(s, run.id, method, ids)
        )

    def faithfulness(self, run: queries.RunInfo) -> stacks.FaithfulnessStack:
        """The run's faithfulness rows: scores [N, M] and deletion curves [N, M, K+1]."""
        return self._stack(run, "faithfulness", lambda s: stacks.stack_faithfulness(s, run.id))

    def plausibility(self, run: queries.RunInfo) -> stacks.PlausibilityStack:
        """The run's plausibility rows aligned with :meth:`corpus` ids ([N, M, measures];
        no methods when the run has no rationales)."""
        ids = self.corpus(run).ids
        return self._stack(
            run, "plausibility", lambda s: plausibility_reads.stack_plausibility(s, run.id, ids)
        )

    def has_plausibility(self, run: queries.RunInfo | None) -> bool:
        """Whether ``run`` stored any plausibility row (it was ingested with rationales)."""
        return run is not None and bool(self.plausibility(run).methods)

    def deletion_stack(
        self, run: queries.RunInfo
    ) -> tuple[np.ndarray, list[str], np.ndarray | None]:
        """(ids [N], methods [M], curves [N, M, K+1] or None), as ``stacks.stack_deletion``."""
        stack = self.faithfulness(run)
        if not len(stack.ids):
            return stack.ids, [], None
        return stack.ids, stack.methods, stack.deletion

    def head_stack(
        self, run: queries.RunInfo, reference: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(ids [N], head grids [N, L, H] or None) with ``reference``."""
        return self._stack(
            run, ("heads", reference), lambda s: stacks.stack_head_grids(s, run.id, reference)
        )

    def sink_stack(
        self, run: queries.RunInfo, stack: str = vocabulary.MAIN_STACK
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(ids [N], share on the first token [N, L, H], on special tokens [N, L, H]) of
        ``stack``'s prediction rows."""
        return self._stack(
            run, ("sink", stack), lambda s: stacks.stack_sink_shares(s, run.id, stack)
        )

    def curve_stack(self, run: queries.RunInfo) -> CurveStack:
        """The run's stored accuracy / bottom-k curves (``.stored`` False before 0003)."""
        return self._stack(run, "accuracy", lambda s: accuracy_reads.stack_curves(s, run.id))

    def vector_methods(self, run: queries.RunInfo) -> list[str]:
        """Methods with stored top-5 vectors, in registry order (empty before revision 0003)."""
        return self._stack(
            run,
            "vector-methods",
            lambda s: vocabulary.in_order(accuracy_reads.vector_methods(s, run.id)),
        )

    def top_vectors(
        self, run: queries.RunInfo, method: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(ids [n], vectors [n, d] or None): ``method``'s top-5 vectors of the run."""
        return self._stack(
            run,
            ("top-vectors", method),
            lambda s: accuracy_reads.stack_top_vectors(s, run.id, method),
        )

    def similarity(self, a: queries.RunInfo, b: queries.RunInfo) -> compare.RunSimilarity:
        """:func:`db.compare.run_similarity` of two runs (every score array of both: the
        costly read of the compare page), cached per pair of run versions."""
        return self._cache.run_pair(
            a, b, "similarity", lambda: self._read(compare.run_similarity, a.id, b.id)
        )

    # -- per-filter results (cached) ---------------------------------------------------------
    def _xy(
        self, run: queries.RunInfo, f: queries.CorpusFilter, need_y: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        x = self.agreement(run, f.pair, f.measure)
        y = self.agreement(run, f.y_pair, f.measure) if need_y or f.box else None
        return x, y

    def with_tag(self, run: queries.RunInfo, f: queries.CorpusFilter) -> queries.CorpusFilter:
        """``f`` with the ids its tag selects read now (one indexed query, never cached: a
        note added a moment ago counts). The ids are part of every cache key built from ``f``,
        so a cached list of a tag filter is never served after the tag's examples change."""
        if not f.tag or f.tagged is not None:
            return f
        tagged = self._read(notes.example_ids_with_tag, run.id, f.tag)
        return replace(f, tagged=tuple(tagged.tolist()))

    def _base(self, run: queries.RunInfo, f: queries.CorpusFilter) -> np.ndarray:
        """:func:`db.stacks.base_mask` of ``f``, cached: the table's counts and ids, the
        scatter, heads and faithfulness of one filter share it (the text search is its cost)."""
        key = ("base", stacks.base_key(f))

        def compute() -> np.ndarray:
            mask = stacks.base_mask(self.corpus(run), f, self.pair_shares(run, f.share))
            if f.plaus_min or f.plaus_max:
                mask &= stacks.plausibility_mask(self.plausibility(run), f)
            return mask

        return self.per_filter(run, key, compute)

    def ids(
        self, run: queries.RunInfo, f: queries.CorpusFilter, sort: str, desc: bool
    ) -> np.ndarray:
        """Filtered example ids in table order, [N] int64."""
        f = self.with_tag(run, f)

        def compute() -> np.ndarray:
            corpus = self.corpus(run)
            x, y = self._xy(run, f, sort == "y")
            mask = stacks.filter_mask(corpus, f, x, y, base=self._base(run, f))
            plaus = None
            if sort == "plaus" and f.plaus_method is not None:
                plaus = self.plausibility(run).of(f.plaus_method, f.plaus_measure)
            share = self.pair_shares(run, f.share) if sort == "share" else None
            if share is not None:
                share = stacks.segment_share(share, f, len(corpus))
            return stacks.table_order(corpus, mask, sort, desc, x, y, plaus, share)

        return self.per_filter(run, ("ids", f, sort, desc), compute)

    def counts(self, run: queries.RunInfo, f: queries.CorpusFilter) -> queries.Counts:
        """Agree / between / disagree counts of a filter."""
        f = self.with_tag(run, f)

        def compute() -> queries.Counts:
            x, y = self._xy(run, f, False)
            return stacks.counts(self.corpus(run), f, x, y, self._base(run, f))

        return self.per_filter(run, ("counts", f), compute)

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
        return self._read(queries.corpus_rows, f, chosen)

    def scatter_points(self, run: queries.RunInfo, f: queries.CorpusFilter) -> pd.DataFrame:
        """id, x, y, correct of every example in the filter, selection and band ignored
        (as :func:`attention_atlas.db.queries.scatter_points`)."""
        f = self.with_tag(run, f.without_selection())
        corpus = self.corpus(run)
        x, y = self.agreement(run, f.pair, f.measure), self.agreement(run, f.y_pair, f.measure)
        mask = self._base(run, f) & ~np.isnan(x) & ~np.isnan(y)
        correct = np.array([None, False, True], dtype=object)[corpus.correct[mask] + 1]
        return pd.DataFrame(
            {"id": corpus.ids[mask], "x": x[mask], "y": y[mask], "correct": correct}
        )

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

    def plausibility_summary(self, run: queries.RunInfo, f: queries.CorpusFilter) -> pd.DataFrame:
        """Per method (random last) over the filtered examples with a rationale: ``n``, and
        the mean and standard error of each plausibility measure and of comprehensiveness
        and sufficiency on the same examples (the plausibility view's table and plot)."""
        f = self.with_tag(run, f)

        def compute() -> pd.DataFrame:
            stack, faith = self.plausibility(run), self.faithfulness(run)
            rows = stacks.rows_of(stack.ids, self.ids(run, f, "id", False))
            wanted = stack.ids[rows]
            out = []
            for i, method in enumerate(stack.methods):
                values = {
                    m: stack.values[rows, i, j] for j, m in enumerate(vocabulary.PLAUSIBILITY)
                }
                present = ~np.isnan(values["auprc"])
                if not present.any():
                    continue
                kept = wanted[present]
                row: dict = {"method": method, "n": int(present.sum())}
                for name, column in values.items():
                    row |= _mean_se(name, column[present])
                row |= _faith_means(faith, kept, method)
                out.append(row)
            return pd.DataFrame(out)

        return self.per_filter(run, ("plausibility", f), compute)

    def heads_summary(
        self,
        run: queries.RunInfo,
        f: queries.CorpusFilter,
        reference: str,
        stat: str,
        stack: str = vocabulary.MAIN_STACK,
    ) -> HeadsSummary:
        """Mean and std over the filtered examples of rho (``stat='rho'``) or sink share, for
        the heads of ``stack`` (an encoder-decoder run's encoder, decoder or cross)."""
        f = self.with_tag(run, f)

        def compute() -> HeadsSummary:
            wanted = self.ids(run, f, "id", False)
            if stat == "rho":
                ids, values = self.head_stack(run, vocabulary.stack_reference(reference, stack))
            else:
                ids, first, special = self.sink_stack(run, stack)
                values = first if stat == "first" else special
            if values is None or len(wanted) == 0:
                return HeadsSummary(None, None, 0)
            subset = stacks.take(ids, values, wanted)
            if len(subset) == 0:
                return HeadsSummary(None, None, 0)
            return HeadsSummary(subset.mean(axis=0), subset.std(axis=0), len(subset))

        return self.per_filter(run, ("summary", f, reference, stat, stack), compute)

    def head_extremes(
        self,
        run: queries.RunInfo,
        f: queries.CorpusFilter,
        reference: str,
        layer: int,
        head: int,
        k: int = 8,
        stack: str = vocabulary.MAIN_STACK,
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """(ids of the k examples where head (layer, head) of ``stack`` agrees most, ...
        least), rho values."""
        wanted = self.ids(run, f, "id", False)
        ids, grids = self.head_stack(run, vocabulary.stack_reference(reference, stack))
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

    def all_rows(
        self, f: queries.CorpusFilter, sort: str = "id", desc: bool = False
    ) -> pd.DataFrame:
        """Every row of the filter with its full text (the CSV download), read now."""
        return self._read(queries.corpus_all, f, sort, desc)

    # -- one example (read now; its decoded attention cached) --------------------------------
    def example(self, example_id: int) -> example_queries.ExampleDetail | None:
        """Text, tokens, prediction and run shape of one example (None when there is none)."""
        return self._read(example_queries.example_detail, example_id)

    def example_at(self, run: queries.RunInfo, source_index: int) -> int | None:
        """The id of ``run``'s example of dataset row ``source_index`` (None when it has none)."""
        return self._read(compare.example_at, run.id, source_index)

    def attributions(self, example_id: int) -> dict[str, np.ndarray]:
        """method -> scores [T] of one example, in registry order."""
        return self._read(example_queries.example_attributions, example_id)

    def head_scores(self, example_id: int) -> dict[str, np.ndarray]:
        """reference method -> [L, H] Spearman grid of one example."""
        return self._read(example_queries.example_head_scores, example_id)

    def example_faithfulness(self, example_id: int) -> pd.DataFrame:
        """method, comprehensiveness, sufficiency, deletion (array) of one example."""
        return self._read(example_queries.example_faithfulness, example_id)

    def rationale(self, example_id: int) -> plausibility_reads.RationaleInfo | None:
        """The example's human rationale (None when it has none)."""
        return self._read(plausibility_reads.example_rationale, example_id)

    def example_plausibility(self, example_id: int) -> pd.DataFrame:
        """method, auprc, token_f1, iou_f1 of one example (empty without a rationale)."""
        return self._read(plausibility_reads.example_plausibility, example_id)

    def attention(
        self, example_id: int, stack: str = vocabulary.MAIN_STACK
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(rows [L, H, T], full [L, H, T, T] or None) of one example's ``stack``, cached:
        decompressing ``full`` is the slow part."""
        return self._cache.example(
            example_id,
            "attention" if stack == vocabulary.MAIN_STACK else f"attention-{stack}",
            lambda: self._read(example_queries.example_attention, example_id, True, stack),
        )

    # -- the reading group's notes, tags and views (read now) --------------------------------
    def notes_of_example(self, example_id: int) -> list[notes.NoteInfo]:
        """The notes of one example, oldest first."""
        return self._read(notes.notes_of_example, example_id)

    def note(self, note_id: int) -> notes.NoteInfo | None:
        return self._read(notes.get_note, note_id)

    def latest_notes(self, limit: int) -> list[notes.NoteInfo]:
        """The ``limit`` newest notes, newest first."""
        return self._read(notes.all_notes, limit)

    def saved_views(self) -> list[notes.ViewInfo]:
        """Every saved view, newest first."""
        return self._read(notes.list_views)

    def tags_of_examples(self, example_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
        """{example id: its tags, sorted} for the tagged ones among ``example_ids``."""
        return self._read(notes.tags_of_examples, list(example_ids))

    def tags_of_run(self, run: queries.RunInfo) -> dict[int, tuple[str, ...]]:
        """{example id: its tags, sorted} for every tagged example of ``run``."""
        return self._read(notes.tags_of_run, run.id)


def _faith_means(
    faith: stacks.FaithfulnessStack, kept: np.ndarray, method: str
) -> dict[str, float]:
    """Mean and standard error of ``method``'s comprehensiveness and sufficiency over the
    example ids ``kept`` (NaN when the method has no faithfulness rows)."""
    chosen = stacks.rows_of(faith.ids, kept)
    out: dict[str, float] = {}
    for name in ("comprehensiveness", "sufficiency"):
        table = getattr(faith, name)
        column = faith.methods.index(method) if method in faith.methods else None
        out |= _mean_se(name, table[chosen, column] if column is not None else np.array([]))
    return out


def _mean_se(name: str, values: np.ndarray) -> dict[str, float]:
    """``{name: mean, name_se: standard error}`` over the finite ``values`` (NaN when none)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {name: float("nan"), f"{name}_se": float("nan")}
    spread = finite.std(ddof=1) / np.sqrt(len(finite)) if len(finite) > 1 else 0.0
    return {name: float(finite.mean()), f"{name}_se": float(spread)}


def install(server: flask.Flask, data: AtlasData) -> None:
    """Make ``data`` the data service of the Flask app ``server``."""
    server.extensions[EXTENSION] = data


def service_of(server: flask.Flask) -> AtlasData | None:
    """The data service installed on ``server`` (None before :func:`install`)."""
    return server.extensions.get(EXTENSION)


def service() -> AtlasData:
    """The data service of the Flask app handling the current request."""
    return flask.current_app.extensions[EXTENSION]

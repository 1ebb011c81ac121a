"""One run of a store as pandas: its examples, scores, agreements, faithfulness, head grids,
attention rows and deletion curves, each over a corpus filter.

A filter is the dashboard's: a copied link or its query string (``query="?pred=0&correct=no"``)
and/or the same keys as keyword arguments (``correct=False, label=[0, 1]``, keywords win);
``db.filter_grammar`` parses it strictly. Per-example tables filter in SQL (the dashboard's
``db.queries`` conditions nested as ``id IN (...)``); the aggregate ones reduce the
dashboard's per-run stacks (``db.stacks``) with numpy, so they give the numbers the dashboard
shows for the same link.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from attention_atlas.db import accuracy_reads, example_queries, plausibility_reads, queries, stacks
from attention_atlas.db import filter_grammar as grammar
from attention_atlas.db.api import frames
from attention_atlas.db.api.reader import Reader, StoreError
from attention_atlas.models import deletion_grid, vocabulary


@dataclass(frozen=True)
class AttentionRows:
    """One example's stored attention: ``rows[layer, head, token]`` is the attention of the
    prediction position on ``tokens[token]``; ``full[layer, head, query, key]`` when stored."""

    example_id: int
    rows: np.ndarray  # [L, H, T] float16 (L = 1 for a run ingested with --attention-rows last)
    layers: np.ndarray  # [L] the model layers of ``rows``: 0..L-1, or the last one only
    heads: np.ndarray  # [H] 0..H-1
    tokens: list[str]  # [T]
    full: np.ndarray | None = None  # [L, H, T, T] float16, short examples only


class RunReader:
    """A run of an open store (``store.run("demo")``); ``info`` holds its provenance."""

    def __init__(self, reader: Reader, info: queries.RunInfo) -> None:
        self._reader, self.info = reader, info
        self.id, self.name = info.id, info.name

    def __repr__(self) -> str:
        return f"RunReader(id={self.id}, name={self.name!r}, examples={self.info.n_examples})"

    # -- the filter --------------------------------------------------------------------------------
    def filter(self, query: str | None = None, **filters: Any) -> queries.CorpusFilter:
        """The dashboard filter of ``query`` (a link or ``?k=v&...``) and keyword ``filters``;
        a tag filter comes with its examples resolved. Raises :class:`StoreError`."""
        values = grammar.query_pairs(query) if query else {}
        values |= {k: grammar.as_query_text(k, v) for k, v in filters.items()}
        try:
            f = grammar.parse_filter(values, self.id)
        except grammar.FilterError as exc:
            raise StoreError(str(exc)) from None
        if f.tag:
            tagged = self._reader.read(frames.tagged_ids, self.id, f.tag)
            f = replace(f, tagged=tuple(tagged.tolist()))
        return f

    def ids(self, query: str | None = None, **filters: Any) -> np.ndarray:
        """Sorted ids ([n] int64) of the examples in the filter."""
        return self._reader.read(queries.filtered_ids, self.filter(query, **filters))

    def counts(self, query: str | None = None, **filters: Any) -> dict[str, int]:
        """The corpus page's counts: total in the filter, agree / between / disagree."""
        counts = self._reader.read(queries.corpus_counts, self.filter(query, **filters))
        return {k: getattr(counts, k) for k in ("total", "agree", "between", "disagree")}

    # -- per-example tables ------------------------------------------------------------------------
    def examples(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per example, by id: id, source_index, text, label, label_name, prediction,
        prediction_name, probabilities ([classes] array), confidence, correct, length,
        truncated, text_pair (a sentence pair's second text, else None), tags (tuple). No
        attention or score array is read."""
        f = self.filter(query, **filters)
        frame = self._reader.read(frames.examples, f)
        names = self.info.label_names
        frame.insert(4, "label_name", frame["label"].map(lambda i: _name(names, i)))
        frame.insert(6, "prediction_name", frame["prediction"].map(lambda i: _name(names, i)))
        tags = self._reader.read(frames.run_tags, self.id)
        frame["tags"] = [tags.get(int(i), ()) for i in frame["id"]]
        return frame

    def tokens(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per example: example_id, tokens, offsets ([T, 2] character spans into the
        text), word_ids and special_mask ([T])."""
        return self._reader.read(frames.tokens, self.filter(query, **filters))

    def provenance(self) -> dict[str, Any]:
        """The run's checkpoint, corpus, methods, settings and library versions (JSON-ready)."""
        return self._reader.read(frames.provenance, self.id)

    def scores(
        self, method: str, query: str | None = None, *, as_arrays: bool = False, **filters: Any
    ) -> pd.DataFrame | dict[int, np.ndarray]:
        """``method``'s token scores over the filter: long format (example_id, position, token,
        word_id, score), or ``{example id: scores [T]}`` with ``as_arrays=True``."""
        if method not in self.info.methods:
            raise StoreError(f"run {self.name!r} has no {method!r} scores ({self._methods()})")
        f = self.filter(query, **filters)
        return self._reader.read(frames.scores, f, method, as_arrays)

    def agreements(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per (example, method pair): example_id, method_a, method_b and every
        measure (spearman, kendall, their signed variants, jaccard_5, jaccard_10pct)."""
        return self._reader.read(frames.agreements, self.filter(query, **filters))

    def faithfulness(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per (example, method): comprehensiveness and sufficiency."""
        stack = self._reader.read(stacks.stack_faithfulness, self.id)
        rows = stacks.rows_of(stack.ids, self.ids(query, **filters))
        return frames.per_method(
            stack.ids[rows],
            stack.methods,
            comprehensiveness=stack.comprehensiveness[rows],
            sufficiency=stack.sufficiency[rows],
        )

    def plausibility(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per (example, method) of the filter's examples with a human rationale:
        auprc, token_f1, iou_f1 (``random``: the baseline); empty for a run without."""
        wanted = self.ids(query, **filters)
        stack = self._reader.read(plausibility_reads.stack_plausibility, self.id, wanted)
        columns = {m: stack.values[:, :, i] for i, m in enumerate(plausibility_reads.MEASURES)}
        return frames.per_method(stack.ids, stack.methods, **columns)

    def rationales(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per example of the filter with a human rationale: example_id, marked
        (tokens), cut (marked characters lost to truncation), mask ([T] bool over its tokens)."""
        return self._reader.read(plausibility_reads.rationale_rows, self.filter(query, **filters))

    def curves(self, query: str | None = None, **filters: Any) -> pd.DataFrame:
        """One row per (example, method, k): the deletion curves on the run's deletion grid
        (every k to 20, then 4 per doubling up to half the example's content tokens; runs
        stored before the grid: k = 0..20), ``k`` tokens removed and ``fraction`` = k / the
        example's content tokens: ``deletion`` (probability of the predicted class), ``same``
        (1 if it is still predicted), ``bottom`` / ``bottom_same`` (removing the bottom k;
        signed methods only). ``.attrs["grid"]`` is the grid as recorded on the run."""
        wanted = self.ids(query, **filters)
        stack = self._reader.read(stacks.stack_faithfulness, self.id)
        extra = self._reader.read(accuracy_reads.stack_curves, self.id)
        rows = stacks.rows_of(stack.ids, wanted)
        columns = {"deletion": stack.deletion[rows]}
        width = stack.deletion.shape[2:]
        if extra.stored and extra.methods == stack.methods and extra.same.shape[2:] == width:
            pick = stacks.rows_of(extra.ids, wanted)
            for name in ("same", "bottom", "bottom_same"):
                columns[name] = getattr(extra, name)[pick]
        frame = frames.curves(stack.ids[rows], stack.methods, columns, stack.k, stack.content[rows])
        frame.attrs["grid"] = deletion_grid.grid_of(self.info.settings).provenance()
        return frame

    # -- aggregates and single examples ------------------------------------------------------------
    def head_grid(
        self, reference: str = "ig", query: str | None = None, *, stat: str = "mean", **filters: Any
    ) -> pd.DataFrame:
        """Layers x heads: the ``stat`` (mean or std) over the filter of each head's Spearman
        with ``reference`` (the heads page's grid); ``.attrs["n"]`` examples."""
        if stat not in ("mean", "std"):
            raise StoreError(f"stat must be 'mean' or 'std', not {stat!r}")
        wanted = self.ids(query, **filters)
        ids, grids = self._reader.read(stacks.stack_head_grids, self.id, reference)
        if grids is None:
            raise StoreError(f"run {self.name!r} has no head grids against {reference!r}")
        subset = stacks.take(ids, grids, wanted)
        values: np.ndarray = (
            getattr(subset, stat)(axis=0) if len(subset) else np.full(grids.shape[1:], np.nan)
        )
        frame = pd.DataFrame(values, index=pd.RangeIndex(values.shape[0], name="layer"))
        frame.columns = pd.RangeIndex(values.shape[1], name="head")
        frame.attrs["n"] = len(subset)
        return frame

    def attention(self, example_id: int, *, full: bool = False) -> AttentionRows:
        """The stored attention rows of one example of this run (``full``: the [L, H, T, T]
        tensor too, when ingest kept it)."""
        detail = self._reader.read(example_queries.example_detail, int(example_id))
        if detail is None or detail.run_id != self.id:
            raise StoreError(f"run {self.name!r} has no example {example_id}")
        rows, whole = self._reader.read(example_queries.example_attention, detail.id, full)
        held = vocabulary.layers_of_rows(0 if rows is None else rows.shape[0], detail.num_layers)
        if rows is None or not held:
            raise StoreError(
                f"example {example_id} has no stored attention"
                + (" (the run was ingested with --attention-rows none)" if rows is not None else "")
            )
        layers, heads = np.arange(held.start, held.stop), np.arange(rows.shape[1])
        return AttentionRows(detail.id, rows, layers, heads, list(detail.tokens), whole)

    def _methods(self) -> str:
        return "its methods: " + ", ".join(vocabulary.in_order(self.info.methods))


def _name(names: list[str], index: Any) -> str | None:
    if index is None or pd.isna(index) or not 0 <= int(index) < len(names):
        return None
    return names[int(index)]

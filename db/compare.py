"""Two runs side by side: their shared examples and how similar their explanations are.

Two runs share an example when they read the same dataset and source index. For each shared
example and each method both runs computed, the similarity of run A's scores with run B's is a
Spearman rank correlation on |scores|, one on signed scores, and the top-5 Jaccard overlap (the
same measures as the method-vs-method agreements, :mod:`db.analysis.metrics`). Scores are
compared over the non-special tokens when both runs tokenized the text the same way; otherwise
per whitespace-separated word (each token's score added to the word its offsets start in), so
checkpoints with different tokenizers can be compared too. The correlations are computed for
all examples of one unit count at once (ranks and row-wise Pearson in numpy).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata
from sqlalchemy import select
from sqlalchemy.orm import Session

from attention_atlas.db.example_queries import joined_text
from attention_atlas.models import vocabulary
from attention_atlas.models.schema import Attribution, Example, Run

SIMILARITIES: dict[str, str] = {
    "spearman": vocabulary.MEASURES["spearman"],
    "spearman_signed": vocabulary.MEASURES["spearman_signed"],
    "jaccard_5": vocabulary.MEASURES["jaccard_5"],
}
TOP_K = 5


@dataclass(frozen=True, eq=False)
class SharedExamples:
    """The examples two runs share, sorted by source index; each array [S]."""

    source: np.ndarray  # int64 source indexes
    ids_a: np.ndarray  # int64 example ids in run A
    ids_b: np.ndarray  # int64 example ids in run B

    def __len__(self) -> int:
        return len(self.source)


@dataclass(frozen=True, eq=False)
class RunSimilarity:
    """Similarity of run A's and run B's explanations per shared example and method."""

    shared: SharedExamples
    methods: list[str]  # [M] methods present in both runs, canonical order
    values: np.ndarray  # [S, M, len(SIMILARITIES)], NaN where undefined or missing
    by_words: np.ndarray  # [S] bool: compared per word (the tokenizations differ)

    def measure(self, name: str) -> np.ndarray:
        """[S, M] values of similarity ``name`` (a key of :data:`SIMILARITIES`)."""
        return self.values[:, :, list(SIMILARITIES).index(name)]

    def medians(self) -> dict[str, dict[str, float]]:
        """method -> similarity -> median over the shared examples (NaN when none defined)."""
        out = {}
        for j, method in enumerate(self.methods):
            column = self.values[:, j, :]
            out[method] = {name: _nanmedian(column[:, k]) for k, name in enumerate(SIMILARITIES)}
        return out


def _nanmedian(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else float("nan")


def shared_examples(session: Session, run_a: int, run_b: int) -> SharedExamples:
    """The examples of ``run_a`` and ``run_b`` with the same source index, when both runs read
    the same dataset and split (none otherwise)."""
    corpora = session.execute(
        select(Run.id, Run.dataset, Run.split).where(Run.id.in_((run_a, run_b)))
    ).all()
    if len({(dataset, split) for _, dataset, split in corpora}) != 1:
        empty = np.zeros(0, dtype=np.int64)
        return SharedExamples(empty, empty, empty)
    a, b = (_source_ids(session, run) for run in (run_a, run_b))
    source, left, right = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    return SharedExamples(source.astype(np.int64), a[1][left], b[1][right])


def _source_ids(session: Session, run_id: int) -> tuple[np.ndarray, np.ndarray]:
    rows = session.execute(
        select(Example.source_index, Example.id).where(Example.run_id == run_id)
    ).all()
    source = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    ids = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    return source, ids


@dataclass(frozen=True)
class _Tokens:
    tokens: tuple[str, ...]
    special: np.ndarray  # [T] bool
    starts: np.ndarray  # [T] character offset where each token starts
    text: str


def _token_info(session: Session, ids: np.ndarray) -> dict[int, _Tokens]:
    """Tokens of the examples ``ids``; a sentence pair's two texts read as one (so words are
    matched across tokenizers in both texts)."""
    stmt = select(
        Example.id,
        Example.tokens,
        Example.special_mask,
        Example.offsets,
        Example.text,
        Example.text_pair,
        Example.pair_start,
    ).where(Example.id.in_(ids.tolist()))
    out = {}
    for i, tokens, special, offsets, text, text_pair, pair_start in session.execute(stmt):
        special = np.asarray(special, bool)
        text, offsets = joined_text(text, text_pair, offsets, special, pair_start)
        out[int(i)] = _Tokens(tuple(tokens), special, np.asarray(offsets)[:, 0], text)
    return out


def _scores(session: Session, ids: np.ndarray) -> dict[tuple[int, str], np.ndarray]:
    stmt = select(Attribution.example_id, Attribution.method, Attribution.scores).where(
        Attribution.example_id.in_(ids.tolist())
    )
    return {(int(i), m): np.asarray(s, np.float64) for i, m, s in session.execute(stmt)}


def _chunks(ids: np.ndarray, size: int = 900) -> list[np.ndarray]:
    """Id lists short enough for one ``IN (...)`` on every back end."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def word_scores(info: _Tokens, scores: np.ndarray) -> np.ndarray:
    """[W] the scores of the content tokens summed per whitespace-separated word of the text
    (the word its start offset falls in); words no content token starts in are left out."""
    words = np.array(_word_starts(info.text), dtype=np.int64)
    content = ~info.special
    word_of = np.searchsorted(words, info.starts[content], side="right") - 1
    totals = np.bincount(word_of.clip(0), weights=scores[content], minlength=len(words))
    present = np.bincount(word_of.clip(0), minlength=len(words)) > 0
    return totals[present]


def _word_starts(text: str) -> list[int]:
    return [
        i for i, ch in enumerate(text) if not ch.isspace() and (i == 0 or text[i - 1].isspace())
    ]


def _units(
    a: _Tokens, b: _Tokens, scores_a: np.ndarray, scores_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(A's vector, B's vector, compared per word) for one example and method."""
    if a.tokens == b.tokens and np.array_equal(a.special, b.special):
        return scores_a[~a.special], scores_b[~b.special], False
    wa, wb = word_scores(a, scores_a), word_scores(b, scores_b)
    n = min(len(wa), len(wb))  # a shorter truncation covers a prefix of the words
    return wa[:n], wb[:n], True


def run_similarity(session: Session, run_a: int, run_b: int) -> RunSimilarity:
    """:class:`RunSimilarity` of every shared example and every method of both runs."""
    shared = shared_examples(session, run_a, run_b)
    methods = _common_methods(session, run_a, run_b)
    values = np.full((len(shared), len(methods), len(SIMILARITIES)), np.nan)
    by_words = np.zeros(len(shared), dtype=bool)
    groups: dict[int, list[tuple[int, int, np.ndarray, np.ndarray]]] = defaultdict(list)
    for rows in _chunks(np.arange(len(shared))):
        ids = np.concatenate([shared.ids_a[rows], shared.ids_b[rows]])
        info, scores = _token_info(session, ids), _scores(session, ids)
        for row in rows.tolist():
            ia, ib = int(shared.ids_a[row]), int(shared.ids_b[row])
            for j, method in enumerate(methods):
                if (ia, method) not in scores or (ib, method) not in scores:
                    continue
                va, vb, words = _units(info[ia], info[ib], scores[ia, method], scores[ib, method])
                by_words[row] |= words
                groups[len(va)].append((row, j, va, vb))
    for items in groups.values():
        _fill(values, items)
    return RunSimilarity(shared, methods, values, by_words)


def _common_methods(session: Session, run_a: int, run_b: int) -> list[str]:
    stmt = select(Run.id, Run.methods).where(Run.id.in_((run_a, run_b)))
    rows = dict(session.execute(stmt).all())
    common = set(rows.get(run_a) or ()) & set(rows.get(run_b) or ())
    return vocabulary.in_order(common)


def _fill(values: np.ndarray, items: list[tuple[int, int, np.ndarray, np.ndarray]]) -> None:
    """Similarities of one group of equally long vector pairs, written into ``values``."""
    rows = np.array([i[0] for i in items])
    cols = np.array([i[1] for i in items])
    a = np.stack([i[2] for i in items])  # [g, n]
    b = np.stack([i[3] for i in items])
    values[rows, cols, 0] = rank_correlation(np.abs(a), np.abs(b))
    values[rows, cols, 1] = rank_correlation(a, b)
    values[rows, cols, 2] = top_k_jaccard(a, b, TOP_K)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[g] Spearman rho of each row pair of ``a``, ``b`` [g, n] (average ranks for ties), as
    ``scipy.stats.spearmanr`` row by row; NaN for n < 2 or a constant row."""
    if a.shape[1] < 2:
        return np.full(len(a), np.nan)
    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (ra * rb).sum(axis=1) / denom
    return np.where(denom > 0, rho, np.nan)


def top_k_jaccard(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """[g] Jaccard overlap of the top-k positions by |score| of each row pair ([g, n]; k capped
    at n, ties by position), as :func:`db.analysis.metrics.jaccard_top_k` row by row."""
    g, n = a.shape
    k = min(k, n)
    if k == 0:
        return np.full(g, np.nan)
    chosen = np.zeros((2, g, n), dtype=bool)
    for side, x in enumerate((a, b)):
        top = np.argsort(-np.abs(x), axis=1, kind="stable")[:, :k]
        np.put_along_axis(chosen[side], top, True, axis=1)
    inter = (chosen[0] & chosen[1]).sum(axis=1)
    return inter / (2 * k - inter)


def example_at(session: Session, run_id: int, source_index: int) -> int | None:
    """The id of run ``run_id``'s example of ``source_index`` (None when it has none)."""
    stmt = select(Example.id).where(Example.run_id == run_id, Example.source_index == source_index)
    return session.scalars(stmt).first()

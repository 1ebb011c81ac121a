"""What each attention head does, from its attention alone (pure numpy): role statistics per
example, role labels per run, and where the prediction row's attention lands (sentiment vs
structure).

Role statistics of one head on one example, over its query rows 1..n-1 (row 0 of a causal
model can only attend to itself, so it is left out everywhere), each a mean over those rows:

- ``previous``: attention on the token just before the query;
- ``self``: attention on the query token itself;
- ``sink``: attention on the first token and on the tokenizer's special tokens ([CLS], [SEP],
  ``<|endoftext|>``: the "attention sink");
- ``punctuation``: attention on punctuation tokens (:func:`punctuation_mask`);
- ``entropy``: the row's entropy divided by the log of the number of tokens it can see, 0 for
  a one-hot row, 1 for a uniform one (broad vs focused).

A head's role over a run (:func:`role_labels`) is the statistic whose mean share reaches its
threshold in :data:`ROLE_THRESHOLDS` (the largest share relative to its threshold when several
do); otherwise ``broad`` when the mean normalised entropy is at least :data:`BROAD_ENTROPY`,
else ``mixed``.
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections.abc import Sequence

import numpy as np

ROLE_STATS = ("previous", "self", "sink", "punctuation", "entropy")
# a head takes a positional / sink / punctuation role when its mean share reaches this
ROLE_THRESHOLDS = {"previous": 0.5, "self": 0.5, "sink": 0.5, "punctuation": 0.3}
BROAD_ENTROPY = 0.75  # mean normalised entropy at or above: "broad", below: "mixed"
ROLES = (*ROLE_THRESHOLDS, "broad", "mixed")
_SUBWORD_MARKS = ("##", "Ġ", "▁", "Ċ")


def punctuation_mask(tokens: Sequence[str]) -> np.ndarray:
    """[n] bool: tokens made only of punctuation (subword marks such as ``##``, ``Ġ`` and
    ``▁`` and spaces ignored)."""
    return np.array([_is_punctuation(t) for t in tokens], dtype=bool)


def _is_punctuation(token: str) -> bool:
    for mark in _SUBWORD_MARKS:
        token = token.replace(mark, "")
    token = token.strip()
    return bool(token) and all(
        c in string.punctuation or unicodedata.category(c).startswith("P") for c in token
    )


def role_stats(full: np.ndarray, sink: np.ndarray, punctuation: np.ndarray) -> np.ndarray:
    """[L, H, 5] role statistics (:data:`ROLE_STATS` order) of every head from its full
    attention ``full`` [L, H, n, n] (rows are queries) and the masks ``sink`` and
    ``punctuation`` [n] bool; NaN for a one-token example."""
    layers, heads, n, _ = full.shape
    out = np.full((layers, heads, len(ROLE_STATS)), np.nan, dtype=np.float32)
    if n < 2:
        return out
    rows = np.asarray(full[:, :, 1:, :], dtype=np.float64)  # [L, H, n-1, n]
    query = np.arange(1, n)
    out[..., 0] = rows[:, :, query - 1, query - 1].mean(-1)
    out[..., 1] = rows[:, :, query - 1, query].mean(-1)
    out[..., 2] = rows[..., sink | (np.arange(n) == 0)].sum(-1).mean(-1)
    out[..., 3] = rows[..., punctuation].sum(-1).mean(-1)
    out[..., 4] = _normalised_entropy(rows).mean(-1)
    return out


def _normalised_entropy(rows: np.ndarray) -> np.ndarray:
    """Entropy of each row [..., n] over the log of its visible (non-zero) token count."""
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(rows > 0, rows * np.log(np.where(rows > 0, rows, 1.0)), 0.0)
    visible = np.maximum((rows > 0).sum(-1), 2)
    return -plogp.sum(-1) / np.log(visible)


def role_labels(stats: np.ndarray) -> np.ndarray:
    """[L, H] role names from mean role statistics [L, H, 5] (see the module docstring)."""
    layers, heads, _ = stats.shape
    labels = np.full((layers, heads), "mixed", dtype=object)
    shares = np.stack([stats[..., ROLE_STATS.index(r)] for r in ROLE_THRESHOLDS], axis=-1)
    ratio = shares / np.array(list(ROLE_THRESHOLDS.values()))
    entropy = stats[..., ROLE_STATS.index("entropy")]
    names = list(ROLE_THRESHOLDS)
    for layer in range(layers):
        for head in range(heads):
            best = np.nanargmax(ratio[layer, head]) if np.isfinite(ratio[layer, head]).any() else 0
            if ratio[layer, head, best] >= 1:
                labels[layer, head] = names[best]
            elif entropy[layer, head] >= BROAD_ENTROPY:
                labels[layer, head] = "broad"
    return labels


def top_token_mask(scores: np.ndarray, content: np.ndarray, share: float = 0.1) -> np.ndarray:
    """[n] bool: the ``ceil(share * content tokens)`` content tokens of largest |score| (at
    least one; ties broken by position), the tokens a method "ranks in the top 10%"."""
    mask = np.zeros(len(scores), dtype=bool)
    positions = np.flatnonzero(content)
    if positions.size == 0:
        return mask
    k = max(1, math.ceil(share * positions.size))
    order = np.argsort(-np.abs(np.asarray(scores, dtype=np.float64)[positions]), kind="stable")
    mask[positions[order[:k]]] = True
    return mask


def row_share(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[L, H] share of each head's prediction row (rows [L, H, n]) on the tokens in ``mask``."""
    rows = np.asarray(rows, dtype=np.float64)
    total = rows.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rows[..., mask].sum(-1) / total).astype(np.float32)

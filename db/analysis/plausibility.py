"""Plausibility: how well a method's token scores agree with a human rationale (pure numpy).

The definitions follow ERASER (DeYoung et al. 2020, ``rationale_benchmark/metrics.py``) as
ferret computes them for one example (``evaluators/plausibility_measures.py``), on the model's
content tokens (special and prompt tokens are never part of a rationale):

- **AUPRC**: area under the precision-recall curve of the soft scores against the human mask,
  every distinct score a threshold (tied scores enter together), precision 1 at recall 0,
  trapezoids (scikit-learn's ``precision_recall_curve`` then ``auc``, as ERASER does).
- **token F1**: F1 of the top-k tokens against the mask, k = the number of marked tokens.
- **IOU F1**: the predicted spans are the runs of adjacent top-k tokens, the human spans the
  runs of marked tokens; a predicted span is a true positive when its best IOU (shared tokens
  over the union) with a human span is at least 0.5; F1 of precision (TP / predicted spans)
  and recall (TP / human spans), ERASER's ``partial_match_score`` for one example.

Scores: unsigned methods (attention, rollout, flow; the random order) as they are; signed
methods keep only their positive part (a token pushing against the predicted class is no
evidence for it), ferret's ``only_pos`` and HateXplain's choice. The top-k tokens are the k
highest scores above zero, ties broken by position (earlier first), so a signed method with
fewer than k positive tokens predicts fewer than k. An empty mask (no rationale, or every
marked token cut by truncation) has no plausibility: every measure is None.
"""

from __future__ import annotations

import numpy as np

IOU_THRESHOLD = 0.5


def soft_scores(scores: np.ndarray, signed: bool) -> np.ndarray:
    """[T] float64: the scores plausibility ranks, the positive part for signed methods."""
    values = np.asarray(scores, dtype=np.float64)
    return np.maximum(values, 0.0) if signed else values


def auprc(mask: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the precision-recall curve of ``scores`` [T] against ``mask`` [T] bool;
    None when nothing is marked (recall is undefined)."""
    truth = np.asarray(mask, dtype=bool)
    if not truth.any():
        return None
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked, hits = np.asarray(scores, dtype=np.float64)[order], truth[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    tps = np.cumsum(hits)[last_of_tie]
    precision = tps / (last_of_tie + 1)
    recall = np.r_[0.0, tps / tps[-1]]
    precision = np.r_[1.0, precision]
    return float(np.sum(np.diff(recall) * (precision[1:] + precision[:-1]) / 2))


def top_k_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """[T] bool: the k highest scores above zero (ties by position, earlier first)."""
    values = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-values, kind="stable")[:k]
    picked = np.zeros(len(values), dtype=bool)
    picked[order[values[order] > 0]] = True
    return picked


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision == 0 or recall == 0 else 2 * precision * recall / (precision + recall)


def token_f1(mask: np.ndarray, predicted: np.ndarray) -> float | None:
    """Token-level F1 of ``predicted`` [T] bool against ``mask`` [T] bool (None: empty mask)."""
    truth, guess = np.asarray(mask, dtype=bool), np.asarray(predicted, dtype=bool)
    if not truth.any():
        return None
    hits = int((truth & guess).sum())
    precision = hits / guess.sum() if guess.any() else 0.0
    return _f1(precision, hits / truth.sum())


def spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """The runs of True in ``mask`` [T] as [start, end) pairs, in order."""
    padded = np.r_[False, np.asarray(mask, dtype=bool), False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared / (max(a[1], b[1]) - min(a[0], b[0])) if shared > 0 else 0.0


def iou_f1(
    mask: np.ndarray, predicted: np.ndarray, threshold: float = IOU_THRESHOLD
) -> float | None:
    """ERASER's IOU F1 of the runs of ``predicted`` [T] bool against the runs of ``mask``."""
    truth, guess = spans(mask), spans(predicted)
    if not truth:
        return None
    hits = sum(max(_iou(p, t) for t in truth) >= threshold for p in guess)
    precision = hits / len(guess) if guess else 0.0
    return _f1(precision, hits / len(truth))


def plausibility(mask: np.ndarray, scores: np.ndarray, signed: bool) -> dict[str, float | None]:
    """auprc, token_f1, iou_f1 of one method's ``scores`` [T] against ``mask`` [T] bool, both
    already restricted to the content tokens."""
    values = soft_scores(scores, signed)
    predicted = top_k_mask(values, int(np.asarray(mask, dtype=bool).sum()))
    return {
        "auprc": auprc(mask, values),
        "token_f1": token_f1(mask, predicted),
        "iou_f1": iou_f1(mask, predicted),
    }


def random_scores(order: np.ndarray, length: int) -> np.ndarray:
    """[length] scores of a random order (positions, first = most important): n, n-1, ..., 1
    at the ordered positions, 0 elsewhere. The random baseline's soft scores."""
    values = np.zeros(length, dtype=np.float64)
    values[np.asarray(order, dtype=np.int64)] = np.arange(len(order), 0, -1, dtype=np.float64)
    return values

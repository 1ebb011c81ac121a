"""Plausibility measures against ERASER's definitions, expected values worked out by hand
(ties, empty rationales, signed scores), and AUPRC against scikit-learn where it is installed
(ERASER computes ``auc(recall, precision)`` of ``precision_recall_curve``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attention_atlas.db.analysis.plausibility import (
    auprc,
    iou_f1,
    plausibility,
    random_scores,
    spans,
    token_f1,
    top_k_mask,
)

MASK = np.array([True, False, True, False])


def test_auprc_by_hand() -> None:
    # thresholds 0.9 / 0.8 / 0.7 / 0.1 give (recall, precision) (.5, 1) (.5, .5) (1, 2/3)
    # (1, .5); from (0, 1): 0.5 * (1 + 1) / 2 + 0 + 0.5 * (0.5 + 2/3) / 2 + 0 = 19/24
    assert math.isclose(auprc(MASK, np.array([0.9, 0.8, 0.7, 0.1])), 19 / 24)


def test_auprc_ties_enter_together() -> None:
    # 0.5 holds one marked and one unmarked token: one point (.5, .5), then (1, .5)
    assert math.isclose(auprc(MASK, np.array([0.5, 0.5, 0.2, 0.2])), 0.375 + 0.25)
    # the order inside a tie does not matter
    assert auprc(MASK, np.array([0.5, 0.5, 0.2, 0.2])) == auprc(
        MASK[::-1].copy(), np.array([0.5, 0.5, 0.2, 0.2])
    )
    # constant scores: one threshold at precision = prevalence: (1 + 0.5) / 2
    assert math.isclose(auprc(MASK, np.zeros(4)), 0.75)


def test_perfect_and_worst_rankings() -> None:
    assert auprc(MASK, np.array([1.0, 0, 1, 0])) == 1.0
    # the marked tokens last: thresholds 1 and 0 give (recall, precision) (0, 0) and (1, .5);
    # from (0, 1): a vertical drop, then 1 * (0 + 0.5) / 2
    worst = auprc(MASK, np.array([0.0, 1.0, 0.0, 1.0]))
    assert math.isclose(worst, 0.25)


def test_auprc_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 30))
        mask = rng.random(n) < 0.3
        mask[rng.integers(n)] = True
        scores = np.round(rng.random(n), 1)  # rounding makes ties
        precision, recall, _ = metrics.precision_recall_curve(mask.astype(int), scores)
        assert math.isclose(auprc(mask, scores), metrics.auc(recall, precision), abs_tol=1e-12)


def test_token_f1_top_k_with_ties_by_position() -> None:
    predicted = top_k_mask(np.array([0.9, 0.8, 0.7, 0.1]), 2)
    assert predicted.tolist() == [True, True, False, False]
    assert token_f1(MASK, predicted) == 0.5  # one of two right: p = r = 1/2
    tied = top_k_mask(np.array([0.5, 0.5, 0.5, 0.1]), 2)
    assert tied.tolist() == [True, True, False, False]  # earlier positions win a tie
    assert token_f1(np.array([False, True, True, False]), tied) == 0.5


def test_top_k_keeps_positive_scores_only() -> None:
    predicted = top_k_mask(np.array([0.0, 0.3, -0.5, 0.0]), 2)
    assert predicted.tolist() == [False, True, False, False]
    assert math.isclose(token_f1(np.array([False, True, True, False]), predicted), 2 / 3)
    assert token_f1(MASK, np.zeros(4, dtype=bool)) == 0.0  # nothing predicted


def test_iou_f1_by_hand() -> None:
    mask = np.array([True, True, False, False, True])  # spans [0, 2), [4, 5)
    predicted = np.array([True, False, False, True, True])  # spans [0, 1), [3, 5)
    assert spans(mask) == [(0, 2), (4, 5)] and spans(predicted) == [(0, 1), (3, 5)]
    assert iou_f1(mask, predicted) == 1.0  # both IOUs are exactly 0.5
    assert math.isclose(token_f1(mask, predicted), 2 / 3)  # 2 of 3 tokens right
    # one predicted span [0, 5) over both human spans: IOU 2/5 and 1/5, below 0.5
    assert iou_f1(mask, np.ones(5, dtype=bool)) == 0.0
    # [0, 1) alone matches [0, 2): p = 1, r = 1/2
    assert math.isclose(iou_f1(mask, np.array([True, False, False, False, False])), 2 / 3)


def test_empty_rationale_has_no_plausibility() -> None:
    empty = np.zeros(4, dtype=bool)
    assert plausibility(empty, np.arange(4.0), signed=False) == {
        "auprc": None,
        "token_f1": None,
        "iou_f1": None,
    }


def test_signed_scores_keep_their_positive_part() -> None:
    mask = np.array([True, False, False, True])
    scores = np.array([0.4, -2.0, 0.1, -0.1])
    row = plausibility(mask, scores, signed=True)
    # soft scores 0.4, 0, 0.1, 0: (.5, 1) (.5, .5) (1, .5) -> 0.5 + 0 + 0.25
    assert math.isclose(row["auprc"], 0.75)
    assert math.isclose(row["token_f1"], 2 * 0.5 * 0.5 / 1.0)  # top-2 = {0, 2}
    # the same scores read as magnitudes would rank the -2.0 first
    assert plausibility(mask, np.abs(scores), signed=False)["auprc"] != row["auprc"]


def test_random_scores_rank_in_the_given_order() -> None:
    values = random_scores(np.array([3, 1, 2]), 5)
    assert values.tolist() == [0.0, 2.0, 1.0, 3.0, 0.0]
    assert np.argsort(-values, kind="stable")[:3].tolist() == [3, 1, 2]

"""Agreement metrics and head grids against known answers and scipy."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import spearmanr

from attention_atlas.db.analysis.metrics import agreement, agreement_rows, head_grid, jaccard_top_k


def test_identical_and_reversed_rankings() -> None:
    a = np.array([0.1, 0.5, 0.3, 0.9, 0.2])
    same = agreement(a, a * 3)
    assert math.isclose(same["spearman"], 1.0) and math.isclose(same["kendall"], 1.0)
    assert same["jaccard_5"] == 1.0
    reverse = agreement(a, -a)
    # same magnitudes -> absolute agreement 1, signed agreement -1
    assert math.isclose(reverse["spearman"], 1.0) and math.isclose(reverse["spearman_signed"], -1.0)
    assert math.isclose(reverse["kendall_signed"], -1.0)


def test_jaccard_top_k_known_answer() -> None:
    a = np.array([5.0, 4, 3, 2, 1, 0, 0, 0, 0, 0])
    b = np.array([5.0, 0, 3, 0, 1, 4, 2, 0, 0, 0])
    assert jaccard_top_k(a, b, 5) == 3 / 7  # {0,1,2,3,4} vs {0,5,2,6,4}
    assert jaccard_top_k(a, b, 1) == 1.0  # 10% of 10 tokens = 1
    assert agreement(a, b)["jaccard_10pct"] == 1.0
    assert jaccard_top_k(-a, b, 2) == 1 / 3  # magnitudes: {0,1} vs {0,5}


def test_constant_scores_are_undefined() -> None:
    out = agreement(np.ones(4), np.arange(4.0))
    assert out["spearman"] is None and out["kendall_signed"] is None
    assert out["jaccard_5"] is not None


def test_rows_skip_special_tokens_and_keep_order() -> None:
    content = np.array([False, True, True, True, False])
    scores = {
        "attention": np.array([100.0, 1, 2, 3, -100]),
        "ig": np.array([-100.0, 1, 2, 3, 100]),
        "shap": np.array([0.0, 3, 2, 1, 0]),
    }
    rows = agreement_rows(scores, content)
    assert [(r["method_a"], r["method_b"]) for r in rows] == [
        ("attention", "ig"),
        ("attention", "shap"),
        ("ig", "shap"),
    ]
    assert math.isclose(rows[0]["spearman"], 1.0)  # the specials' opposite extremes are ignored
    assert math.isclose(rows[1]["spearman"], -1.0)


def test_head_grid_matches_scipy_per_head() -> None:
    rng = np.random.default_rng(0)
    rows = rng.random((2, 3, 7))
    rows[1, 2] = 0.5  # a constant head -> NaN
    reference = rng.normal(size=7)
    content = np.array([False, True, True, True, True, True, False])
    grid = head_grid(rows, reference, content)
    assert grid.shape == (2, 3) and np.isnan(grid[1, 2])
    for layer in range(2):
        for head in range(3):
            if (layer, head) == (1, 2):
                continue
            expected = spearmanr(rows[layer, head, content], np.abs(reference[content]))[0]
            assert math.isclose(grid[layer, head], expected, abs_tol=1e-6)

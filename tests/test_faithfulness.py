"""Faithfulness (comprehensiveness, sufficiency, deletion curves): known answers from direct
forward passes, batched == one-at-a-time on a padded batch of mixed lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from support.methods import TEXTS, build_adapter, options, run_forward, save_checkpoint

from attention_atlas.ingest.batch import explain_batch
from attention_atlas.ingest.faithfulness import FRACTIONS, faithfulness_batch, random_order, ranking
from attention_atlas.ingest.methods.base import targets_of
from attention_atlas.models.deletion_grid import GRID

torch.set_num_threads(1)


@pytest.fixture(scope="module", params=["bert", "gpt2"])
def adapter(request, tmp_path_factory):
    return build_adapter(
        request.param, save_checkpoint(request.param, tmp_path_factory.mktemp("f"))
    )


def _prob(adapter, ids: np.ndarray, position: int, target: int) -> float:
    with torch.no_grad():
        logits = adapter.forward(
            None,
            input_ids=torch.tensor(ids[None]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            prediction_positions=torch.tensor([position]),
        ).logits
    return float(torch.softmax(logits, -1)[0, target])


def test_known_answers_from_direct_forwards(adapter) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)
    targets = targets_of(forward).tolist()
    scores = [{"ig": np.random.default_rng(i).normal(size=it.length)} for i, it in enumerate(items)]
    out = faithfulness_batch(adapter, items, scores, targets, seed=3, budget=200)
    removal = adapter.removal_token_id
    for item, target, score, rows in zip(items, targets, scores, out, strict=True):
        assert [r["method"] for r in rows] == ["ig", "random"]
        row = rows[0]
        ids = np.asarray(item.input_ids)
        pos = item.prediction_position
        full = _prob(adapter, ids, pos, target)
        order = ranking(item, score["ig"])
        n = len(order)
        assert len(row["deletion"]) == len(GRID.ks(n))  # k = 0..n for these short texts
        assert math.isclose(row["deletion"][0], full, abs_tol=1e-5)
        k = max(1, math.ceil(0.2 * n))
        removed = ids.copy()
        removed[order[:k]] = removal
        kept = ids.copy()
        kept[order[k:]] = removal
        at = FRACTIONS.index(0.20)
        assert math.isclose(
            row["comprehensiveness_at"][at],
            full - _prob(adapter, removed, pos, target),
            abs_tol=1e-5,
        )
        assert math.isclose(
            row["sufficiency_at"][at], full - _prob(adapter, kept, pos, target), abs_tol=1e-5
        )
        assert math.isclose(
            row["comprehensiveness"], float(np.mean(row["comprehensiveness_at"])), abs_tol=1e-6
        )
        # specials are never removed: deleting everything leaves them in place
        assert all(item.special_mask[order] == False)  # noqa: E712


def test_batched_equals_single_and_random_is_seeded(adapter) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)
    opts = options("attention", "grad_input", seed=7, faithfulness=True)
    batched = explain_batch(adapter, batch, items, forward, opts)
    for i, item in enumerate(items):
        one = adapter.collate([item])
        with torch.no_grad():
            one_forward = adapter.forward(one, output_attentions=True)
        single = explain_batch(adapter, one, [item], one_forward, opts)[0]
        assert [r["method"] for r in batched[i].faithfulness] == [
            "attention",
            "grad_input",
            "random",
        ]
        for a, b in zip(batched[i].faithfulness, single.faithfulness, strict=True):
            for key in ("comprehensiveness_at", "sufficiency_at", "deletion"):
                np.testing.assert_allclose(a[key], b[key], atol=1e-5)
    assert (random_order(items[1], 7) == random_order(items[1], 7)).all()
    assert not (random_order(items[1], 7) == random_order(items[1], 8)).all()

"""The methods the course notes teach, each against its reference on a tiny BERT, a tiny GPT-2
classifier and the zero-shot path: saliency against Captum ``Saliency``, LIME against Captum
``Lime`` with the same interpretable space, samples, kernel and ridge, gradient-weighted rollout
against Chefer et al.'s equations (rules 5 and 6 of hila-chefer/Transformer-MM-Explainability)
applied to one unpadded example; plus hand-computed cases and LIME's seeding."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from support.methods import TEXTS, build_adapter, params, run_forward, save_checkpoint

from attention_atlas.ingest.estimate import units
from attention_atlas.ingest.methods import grad_rollout, lime, saliency
from attention_atlas.ingest.methods.base import targets_of
from attention_atlas.ingest.methods.registry import method
from attention_atlas.ingest.settings import IngestSettings
from attention_atlas.models import vocabulary

torch.set_num_threads(1)
REFERENCES = {
    "saliency": saliency.captum_reference,
    "grad_rollout": grad_rollout.chefer_reference,
    "lime": lime.captum_reference,
}


@pytest.fixture(scope="module", params=("bert", "gpt2", "zero_shot"))
def adapter(request, tmp_path_factory):
    return build_adapter(
        request.param, save_checkpoint(request.param, tmp_path_factory.mktemp("m"))
    )


def largest_relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12))


@pytest.mark.parametrize(
    ("method_id", "output"),
    [(m, o) for m in sorted(REFERENCES) for o in ("prob", "logit") if (m, o) != ("lime", "logit")],
)
def test_batched_method_equals_its_reference(adapter, method_id: str, output: str) -> None:
    """A padded batch of mixed lengths against the reference, one example at a time."""
    items, batch, forward = run_forward(adapter, TEXTS)
    chosen = params(method_id, output=output)
    if method_id == "lime":
        chosen = replace(chosen, samples=64)
    results = method(method_id).compute(adapter, batch, items, forward, chosen)
    for item, result, target in zip(items, results, targets_of(forward).tolist(), strict=True):
        want = REFERENCES[method_id](adapter, item, target, chosen)
        assert largest_relative_difference(result.scores, want) < 1e-4, (method_id, item.tokens)
        assert np.abs(result.scores).sum() > 0


def test_grad_rollout_hand_computed_two_layers() -> None:
    """R = I; R += mean_heads(ReLU(grad * A)) R per layer, by hand for 2 heads, 2 tokens;
    stored as R - I."""
    a1 = torch.tensor([[[[0.2, 0.8], [0.6, 0.4]], [[0.5, 0.5], [1.0, 0.0]]]])
    g1 = torch.tensor([[[[1.0, -1.0], [2.0, 0.5]], [[0.0, 2.0], [-1.0, 3.0]]]])
    a2 = torch.tensor([[[[0.9, 0.1], [0.3, 0.7]], [[0.4, 0.6], [0.5, 0.5]]]])
    g2 = torch.tensor([[[[-2.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [0.0, -4.0]]]])
    # layer 1: ReLU(g*a) head 0 [[.2,0],[1.2,.2]], head 1 [[0,1],[0,0]] -> mean
    cam1 = np.array([[0.1, 0.5], [0.6, 0.1]])
    cam2 = np.array([[0.2, 0.35], [0.15, 0.35]])
    r1 = np.eye(2) + cam1 @ np.eye(2)
    want = r1 + cam2 @ r1 - np.eye(2)  # the identity's own 1 is left out
    got = grad_rollout.relevance_rows((a1, a2), (g1, g2))[0].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_grad_rollout_respects_the_causal_mask(tmp_path) -> None:
    """On GPT-2 the last position's row credits every earlier token, and the first position's
    row (which attends to itself only) credits no other token."""
    ad = build_adapter("gpt2", save_checkpoint("gpt2", tmp_path))
    items, batch, forward = run_forward(ad, TEXTS[:2])
    attentions, grads = grad_rollout.attention_gradients(ad, batch, targets_of(forward), "prob")
    relevance = grad_rollout.relevance_rows(attentions, grads)[0].numpy()
    n = items[0].length
    assert np.allclose(np.triu(relevance[:n, :n], k=1), 0)


def test_saliency_is_unsigned_and_shares_the_gradient_pass(adapter) -> None:
    from attention_atlas.ingest.methods.base import Shared

    items, batch, forward = run_forward(adapter, TEXTS[:2])
    shared = Shared()
    chosen = params("saliency")
    method("grad_input").compute(adapter, batch, items, forward, chosen, shared=shared)
    passes = dict(shared.values)
    out = method("saliency").compute(adapter, batch, items, forward, chosen, shared=shared)
    assert shared.values == passes  # no second pass
    assert all((r.scores >= 0).all() for r in out)


def test_lime_samples_follow_the_text_sampler() -> None:
    rows = lime.lime_samples(7, 300, seed=3)
    assert rows.shape == (300, 7) and rows[0].all()
    removed = 7 - rows[1:].sum(axis=1)
    assert removed.min() >= 1 and removed.max() == 7
    assert set(np.unique(removed)) == set(range(1, 8))  # k ~ U{1..m}
    np.testing.assert_array_equal(rows, lime.lime_samples(7, 300, seed=3))
    assert not np.array_equal(rows, lime.lime_samples(7, 300, seed=4))


def test_lime_kernel_and_ridge_are_lime_defaults() -> None:
    rows = np.array([[1, 1, 1, 1], [1, 0, 1, 1], [0, 0, 0, 1]], dtype=np.int8)
    cosine = np.array([1.0, 3 / np.sqrt(3 * 4), 1 / np.sqrt(4)])
    want = np.sqrt(np.exp(-(((1 - cosine) * 100) ** 2) / 25.0**2))
    np.testing.assert_allclose(lime.kernel_weights(rows), want)
    # with weights and alpha = 0 the ridge is weighted least squares: exact on a linear target
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(40, 3))
    y = 0.5 + x @ np.array([1.0, -2.0, 0.25])
    coef, r2 = lime.weighted_ridge(x, y, rng.random(40) + 0.1, alpha=0.0)
    np.testing.assert_allclose(coef, [1.0, -2.0, 0.25], atol=1e-10)
    assert r2 == pytest.approx(1.0)


def test_lime_is_seeded_by_the_run_seed_and_independent_of_the_batch(adapter) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)
    chosen = replace(params("lime"), samples=64)
    together = method("lime").compute(adapter, batch, items, forward, chosen)
    alone_items, alone_batch, alone_forward = run_forward(adapter, TEXTS[1:2])
    alone = method("lime").compute(adapter, alone_batch, alone_items, alone_forward, chosen)
    np.testing.assert_allclose(alone[0].scores, together[1].scores, rtol=1e-4, atol=1e-7)
    other = method("lime").compute(adapter, batch, items, forward, replace(chosen, seed=7))
    assert not np.allclose(other[1].scores, together[1].scores)
    for item, result in zip(items, together, strict=True):
        assert (result.scores[item.special_mask] == 0).all()
        assert result.check is not None and result.check <= 1.0


def test_lime_samples_setting_default_provenance_and_cost() -> None:
    from attention_atlas.ingest.batch import plan_for

    plain = IngestSettings(methods=("ig",))
    assert "lime_samples" not in plain.run_settings()  # older runs keep their identity
    plan = plan_for(replace(plain, methods=("lime",)))
    assert plan.provenance()["lime_samples"] == vocabulary.LIME_DEFAULT_SAMPLES == 500
    chosen = replace(plain, methods=("lime",), lime_samples=80, seed=5)
    assert plan_for(chosen).params["lime"].seed == 5
    assert chosen.run_settings()["lime_samples"] == 80
    assert units("lime", 20, chosen, 1) == 80 * 20
    assert units("saliency", 20, chosen, 1) == units("grad_rollout", 20, chosen, 1) == 20

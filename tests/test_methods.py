"""Attribution methods: known answers (IG completeness, SHAP additivity, hand-computed rollout
and AGrad), batched == one-at-a-time on padded batches of mixed lengths, Captum agreement, and
every registered method on a tiny BERT, a tiny GPT-2 classifier and the zero-shot path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support import methods as helpers
from support.methods import (
    TEXTS,
    build_adapter,
    options,
    run_forward,
    save_checkpoint,
    sharpen,
)

from attention_atlas.ingest.batch import explain_batch
from attention_atlas.ingest.methods import ig as ig_method
from attention_atlas.ingest.methods import shap_method
from attention_atlas.ingest.methods.attention import flow_scores, residual_attention, rollout_scores
from attention_atlas.ingest.methods.base import explained, targets_of
from attention_atlas.ingest.methods.gradients import agrad_scores
from attention_atlas.ingest.methods.registry import COMPUTE, validate_methods
from attention_atlas.models import vocabulary

torch.set_num_threads(1)
KINDS = ("bert", "gpt2", "zero_shot", "bart", "t5")


@pytest.fixture(scope="module", params=KINDS)
def adapter(request, tmp_path_factory):
    return build_adapter(
        request.param, save_checkpoint(request.param, tmp_path_factory.mktemp("m"))
    )


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return build_adapter("bert", save_checkpoint("bert", tmp_path_factory.mktemp("b")))


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    return build_adapter("gpt2", save_checkpoint("gpt2", tmp_path_factory.mktemp("g")))


def test_registry_ids_and_defaults() -> None:
    defaults = vocabulary.default_method_ids()
    assert defaults == ("attention", "rollout", "agrad", "grad_input", "ig", "shap")
    assert set(defaults) < set(COMPUTE) and "flow" in COMPUTE
    assert validate_methods(["shap", "attention", "shap"]) == ("attention", "shap")
    with pytest.raises(ValueError, match="unknown method"):
        validate_methods(["lime_plus"])


@pytest.mark.parametrize("method", vocabulary.method_ids())
def test_every_method_on_every_adapter(adapter, method: str) -> None:
    items, batch, forward = run_forward(adapter, TEXTS[:3])
    stack = vocabulary.info(method).stack
    if stack is not None and stack not in adapter.stacks:  # a one-stack model has no decoder
        with pytest.raises(ValueError, match=f"no {stack} attention"):
            explain_batch(adapter, batch, items, forward, options(method))
        return
    plan = options(method, shap_evals=64, lime_samples=64)
    out = explain_batch(adapter, batch, items, forward, plan)
    for item, explanation in zip(items, out, strict=True):
        scores, check, seconds = explanation.attributions[method]
        assert scores.dtype == np.float32 and scores.shape == (item.length,)
        assert np.isfinite(scores).all() and seconds >= 0
        assert np.abs(scores).sum() > 0
        if method == "shap":
            assert (scores[item.special_mask] == 0).all()
            assert check is not None and check < 1e-4


def test_rollout_hand_computed_two_layers() -> None:
    # 2 layers, 1 head, 2 tokens; A' = 0.5 A + 0.5 I (rows already sum to 1)
    a1 = np.array([[0.2, 0.8], [0.6, 0.4]])
    a2 = np.array([[1.0, 0.0], [0.5, 0.5]])
    attn = np.stack([a1, a2])[:, None]  # [L=2, H=1, 2, 2]
    r1 = np.array([[0.6, 0.4], [0.3, 0.7]])
    r2 = np.array([[1.0, 0.0], [0.25, 0.75]])
    np.testing.assert_allclose(residual_attention(attn), np.stack([r1, r2]))
    # R = A'_2 @ A'_1 -> row 0 = [0.6, 0.4]; row 1 = 0.25*[0.6,0.4] + 0.75*[0.3,0.7]
    np.testing.assert_allclose(rollout_scores(attn, 0), [0.6, 0.4])
    np.testing.assert_allclose(rollout_scores(attn, 1), [0.375, 0.625])
    # heads are averaged before the residual mix
    two_heads = np.stack([np.stack([a1, a1 * 0 + [[1, 0], [0, 1]]]), np.stack([a2, a2])])
    mean1 = 0.5 * (a1 + np.eye(2))
    expected = (0.5 * np.stack([a2]) + 0.5 * np.eye(2))[0] @ (0.5 * mean1 + 0.5 * np.eye(2))
    np.testing.assert_allclose(rollout_scores(two_heads, 0), expected[0])


def test_flow_hand_computed_two_layers() -> None:
    a1 = np.array([[0.2, 0.8], [0.6, 0.4]])
    a2 = np.array([[1.0, 0.0], [0.5, 0.5]])
    attn = np.stack([a1, a2])[:, None]
    # into output token 0 only edge from layer-1 token 0 (cap 1.0); into that node:
    # from token 0 cap 0.6, from token 1 cap 0.4 -> flows 0.6 and 0.4
    np.testing.assert_allclose(flow_scores(attn, 0), [0.6, 0.4], atol=1e-6)


def test_agrad_hand_computed_two_layers() -> None:
    # only the last layer counts: -(dL/dalpha * alpha), mean over its 2 heads
    attention = np.array([[0.5, 0.25, 0.25], [0.1, 0.6, 0.3]])  # [H, n], last layer rows
    loss_grad = np.array([[1.0, -2.0, 0.0], [-0.5, 0.5, 4.0]])
    expected = -np.array([(0.5 - 0.05) / 2, (-0.5 + 0.3) / 2, (0.0 + 1.2) / 2])
    np.testing.assert_allclose(agrad_scores(attention, loss_grad), expected)


def test_agrad_matches_value_vectors(bert) -> None:
    """dL/dalpha[h, j] at the prediction row equals <dL/dcontext_h, v_j,h> (the last layer's
    context is sum_j alpha_j v_j): an independent route through hooks on the value projection
    and the attention output."""
    items, batch, forward = run_forward(bert, TEXTS[1:2])
    out = explain_batch(bert, batch, items, forward, options("agrad"))
    scores = out[0].attributions["agrad"][0]
    attention_module = bert.model.bert.encoder.layer[-1].attention.self
    captured = {}
    hooks = [
        attention_module.value.register_forward_hook(lambda m, i, o: captured.update(v=o)),
        attention_module.register_forward_hook(lambda m, i, o: captured.update(ctx=o[0])),
    ]
    try:
        result = bert.forward(batch, output_attentions=True)
        ctx = captured["ctx"]
        loss = torch.nn.functional.cross_entropy(result.logits, targets_of(forward))
        (grad_ctx,) = torch.autograd.grad(loss, ctx)
    finally:
        for hook in hooks:
            hook.remove()
    heads, n = bert.num_heads, items[0].length
    g = grad_ctx[0, 0].reshape(heads, -1)  # prediction position 0 ([CLS])
    v = captured["v"][0, :n].reshape(n, heads, -1)
    d_alpha = torch.einsum("hd,jhd->hj", g, v).detach().double().numpy()
    alpha = result.attentions[-1][0, :, 0, :n].detach().double().numpy()
    np.testing.assert_allclose(scores, agrad_scores(alpha, d_alpha), atol=1e-6)
    assert np.abs(scores).max() > 1e-4


@pytest.fixture(scope="module")
def bert_sharp(tmp_path_factory):
    """Weights drawn with std 1: a far-from-linear model where 50 IG steps are not enough."""
    adapter = build_adapter("bert", save_checkpoint("bert", tmp_path_factory.mktemp("s")))
    sharpen(adapter.model, std=1.0)
    return adapter


def test_ig_completeness_on_a_far_from_linear_model(bert_sharp, capsys) -> None:
    """Weights with std 1: the all-positions path converges by 300 steps, the content-only
    path (frame fixed, a sharper turn) needs 1000 on one text; 50 steps is visibly worse."""
    bert = bert_sharp
    items, batch, forward = run_forward(bert, TEXTS)
    targets = targets_of(forward)
    for baseline, steps, tolerance in (
        ("zero-all", 300, 0.01),
        ("zero", 1000, 0.01),
        ("zero", 50, None),
    ):
        params = helpers.params("ig", steps=steps, baseline=baseline)
        results = ig_method.integrated_gradients(bert, items, targets, params)
        ranges = []
        for item, target, result in zip(items, targets.tolist(), results, strict=True):
            gap = _completeness(bert, item, target, result.scores, baseline)
            assert abs(gap - result.check) < 1e-6
            ranges.append(_f_range(bert, item, target, baseline))
            if tolerance is not None:
                assert result.check <= tolerance * ranges[-1], (baseline, steps, result.check)
        assert max(ranges) > 0.05
        if tolerance is None:  # 50 steps is visibly worse on this model (reported, not asserted)
            assert max(r.check for r in results) > 1e-3
        with capsys.disabled():
            gaps = [f"{r.check:.2e}" for r in results]
            print(f"\nIG {baseline} {steps} steps: completeness gaps {gaps}")


def _f_pair(adapter, item, target, baseline: str = "zero") -> tuple[float, float]:
    """(f(x), f(b)): the predicted class's probability at the input and at IG's baseline b,
    computed here from the embeddings (not through the IG code)."""
    x = adapter.embed(torch.tensor([item.input_ids]))
    base = ig_method.baseline_embeds(adapter, item, x[0], baseline)[None]
    with torch.no_grad():
        f = [
            torch.softmax(adapter.forward(adapter.collate([item]), inputs_embeds=e).logits, -1)[
                0, target
            ]
            for e in (x, base)
        ]
    return float(f[0]), float(f[1])


def _f_range(adapter, item, target, baseline: str) -> float:
    f_x, f_b = _f_pair(adapter, item, target, baseline)
    return abs(f_x - f_b)


def _completeness(adapter, item, target, scores, baseline: str) -> float:
    f_x, f_b = _f_pair(adapter, item, target, baseline)
    return abs(float(scores.astype(np.float64).sum()) - (f_x - f_b))


def test_default_ig_keeps_specials_and_prompt_frame(adapter) -> None:
    """Issue 13: the default baseline replaces content tokens only, so IG is exactly 0 on
    every special / prompt-frame position and completes to f(x) - f(content removed) within
    1e-3 of that difference at 300 steps."""
    if adapter.model.config.model_type == "t5":
        pytest.skip(
            "T5 adds no position embeddings, so its first RMSNorm (scale-invariant, singular at "
            "0) sees the interpolated embedding itself: from the zero baseline IG converges "
            "slowly (gap 0.9% of f(x) - f(b) at 300 steps); test_encoder_decoder checks T5 "
            "completeness from the pad baseline"
        )
    items, _, forward = run_forward(adapter, TEXTS)
    targets = targets_of(forward)
    results = ig_method.integrated_gradients(
        adapter, items, targets, helpers.params("ig", steps=300)
    )
    assert helpers.params("ig").baseline == "zero"  # the default
    for item, target, result in zip(items, targets.tolist(), results, strict=True):
        assert item.special_mask.any() or adapter.kind == "decoder"  # GPT-2 adds no specials
        assert np.all(result.scores[item.special_mask] == 0.0)
        assert np.abs(result.scores[~item.special_mask]).max() > 0
        f_x, f_b = _f_pair(adapter, item, target)
        gap = abs(float(result.scores.astype(np.float64).sum()) - (f_x - f_b))
        assert abs(gap - result.check) < 1e-6
        assert gap < 1e-3 * abs(f_x - f_b), (gap, f_x - f_b)


def test_zero_all_baseline_is_the_all_positions_zero_input(adapter) -> None:
    """``zero-all`` keeps the seed papers' baseline: zero embeddings everywhere, so the frame
    and specials take credit too (the scores the default gave before issue 13)."""
    items, _, forward = run_forward(adapter, TEXTS[:2])
    item = items[1]
    x = adapter.embed(torch.tensor([item.input_ids]))[0]
    assert torch.equal(ig_method.baseline_embeds(adapter, item, x, "zero-all"), torch.zeros_like(x))
    kept = ig_method.baseline_embeds(adapter, item, x, "zero")
    assert torch.equal(kept[item.special_mask], x[item.special_mask])
    assert torch.equal(kept[~item.special_mask], torch.zeros_like(x[~item.special_mask]))
    result = ig_method.integrated_gradients(
        adapter, [item], targets_of(forward)[1:2], helpers.params("ig", baseline="zero-all")
    )[0]
    if item.special_mask.any():  # GPT-2 classifiers add no special tokens
        assert np.abs(result.scores[item.special_mask]).max() > 0
    with pytest.raises(ValueError, match="zero-all"):
        ig_method.baseline_embeds(adapter, item, x, "ones")


@pytest.mark.parametrize("baseline", ["zero", "pad", "zero-all"])
def test_ig_matches_captum_and_batched_equals_single(adapter, baseline: str) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)
    targets = targets_of(forward)
    params = helpers.params("ig", steps=20, baseline=baseline, token_budget=256)  # chunks
    batched = ig_method.integrated_gradients(adapter, items, targets, params)
    for i, item in enumerate(items):
        single = ig_method.integrated_gradients(adapter, [item], targets[i : i + 1], params)[0]
        assert batched[i].scores.shape == (item.length,)  # pads never scored
        np.testing.assert_allclose(batched[i].scores, single.scores, atol=1e-5)
        reference, delta = ig_method.captum_reference(adapter, item, int(targets[i]), params)
        np.testing.assert_allclose(batched[i].scores, reference, atol=1e-5)
        assert abs(batched[i].check - abs(delta)) < 1e-5


def test_ig_gpt2_ignores_pad_positions(gpt2) -> None:
    """Right-padded GPT-2 rows: scores stop at the real length and do not depend on the pad
    embedding (changing it leaves the scores unchanged)."""
    items, batch, forward = run_forward(gpt2, [TEXTS[1], TEXTS[2]])
    assert batch.input_ids.shape[1] > items[1].length
    targets = targets_of(forward)
    params = helpers.params("ig", steps=16)
    before = ig_method.integrated_gradients(gpt2, items, targets, params)
    embedding = gpt2.model.get_input_embeddings().weight
    saved = embedding[gpt2.pad_token_id].clone()
    with torch.no_grad():
        embedding[gpt2.pad_token_id] += 5.0
    try:
        after = ig_method.integrated_gradients(gpt2, items, targets, params)
    finally:
        with torch.no_grad():
            embedding[gpt2.pad_token_id] = saved
    assert after[1].scores.shape == (items[1].length,)
    # the pad token is also the last real token (eos) nowhere in these texts
    np.testing.assert_allclose(before[1].scores, after[1].scores, atol=1e-6)


def test_shap_additivity_and_batched_equals_single(adapter) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)
    opts = options("shap", shap_evals=200, token_budget=128)
    batched = explain_batch(adapter, batch, items, forward, opts)
    for i, item in enumerate(items):
        scores, gap, _ = batched[i].attributions["shap"]
        assert gap < 1e-4
        single_batch = adapter.collate([item])
        with torch.no_grad():
            single_forward = adapter.forward(single_batch, output_attentions=True)
        single = explain_batch(adapter, single_batch, [item], single_forward, opts)[0]
        np.testing.assert_allclose(scores, single.attributions["shap"][0], atol=1e-5)


def test_shap_masker_never_retokenizes(bert) -> None:
    item = bert.encode(TEXTS[1])
    content = np.flatnonzero(~item.special_mask)
    x = np.asarray(item.input_ids)[content]
    tree = shap_method.token_clustering(item, content)
    masker = shap_method.TokenMasker(x, bert.removal_token_id, tree)
    mask = np.zeros(len(x), dtype=bool)
    mask[::2] = True
    (out,) = masker(mask, x)
    assert out.shape == (1, len(x))
    assert (out[0][mask] == x[mask]).all() and (out[0][~mask] == bert.removal_token_id).all()
    assert tree.shape == (len(x) - 1, 4)


def test_shap_exact_for_two_tokens(bert) -> None:
    """With two content tokens Owen = Shapley values, computed here by hand."""
    item = bert.encode("great film")
    assert (~item.special_mask).sum() == 2
    target = 1
    params = helpers.params("shap", evals=50)
    result = shap_method.explain_example(bert, item, target, params)
    ids = np.asarray(item.input_ids)
    a, b = np.flatnonzero(~item.special_mask)
    rows = []
    for keep_a in (0, 1):
        for keep_b in (0, 1):
            r = ids.copy()
            if not keep_a:
                r[a] = bert.removal_token_id
            if not keep_b:
                r[b] = bert.removal_token_id
            rows.append(r)
    with torch.no_grad():
        p = (
            torch.softmax(
                bert.forward(
                    None,
                    input_ids=torch.tensor(np.stack(rows)),
                    attention_mask=torch.ones(4, len(ids), dtype=torch.long),
                    prediction_positions=torch.zeros(4, dtype=torch.long),
                ).logits,
                -1,
            )[:, target]
            .double()
            .numpy()
        )
    f00, f01, f10, f11 = p
    phi_a = 0.5 * ((f10 - f00) + (f11 - f01))
    phi_b = 0.5 * ((f01 - f00) + (f11 - f10))
    np.testing.assert_allclose(result.scores[[a, b]], [phi_a, phi_b], atol=1e-6)


def _explained_at(adapter, ids: list[int], item, target: int, kind: str) -> float:
    logits = adapter.forward(
        None,
        input_ids=torch.tensor([ids]),
        attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        prediction_positions=torch.tensor([item.prediction_position]),
    ).logits
    return float(explained(logits, torch.tensor([target]), kind)[0])


def test_logit_output_is_what_ig_and_shap_sum_to(bert_sharp) -> None:
    """--explain-output logit: IG sums to logit(x) - logit(baseline) and SHAP to logit(x) -
    logit(all content masked), not to the probability differences."""
    bert = bert_sharp
    items, batch, forward = run_forward(bert, TEXTS)
    targets = targets_of(forward)
    # the sharp model's logit is far less smooth along the path than its probability: 300
    # steps leave a 9% gap on one text (Captum's too), 1000 steps 0.01%
    ig_logit = ig_method.integrated_gradients(
        bert, items, targets, helpers.params("ig", steps=1000, output="logit")
    )
    shap_logit = explain_batch(
        bert, batch, items, forward, options("shap", shap_evals=200, explain_output="logit")
    )
    with torch.no_grad():
        for i, item in enumerate(items):
            target = int(targets[i])
            x = bert.embed(torch.tensor([item.input_ids]))
            base = ig_method.baseline_embeds(bert, item, x[0], "zero")[None]
            zero = [
                float(
                    explained(
                        bert.forward(bert.collate([item]), inputs_embeds=e).logits,
                        targets[i : i + 1],
                        kind,
                    )[0]
                )
                for kind in ("logit", "prob")
                for e in (x, base)
            ]
            logit_gap, prob_gap = zero[0] - zero[1], zero[2] - zero[3]
            assert abs(ig_logit[i].scores.sum() - logit_gap) <= 0.01 * abs(logit_gap)
            assert abs(logit_gap - prob_gap) > 0.05  # the two units really differ here
            masked = np.where(item.special_mask, item.input_ids, bert.removal_token_id).tolist()
            f_x = _explained_at(bert, list(item.input_ids), item, target, "logit")
            f_masked = _explained_at(bert, masked, item, target, "logit")
            scores, gap, _ = shap_logit[i].attributions["shap"]
            assert gap < 1e-4 and abs(scores.sum() - (f_x - f_masked)) < 1e-4


def test_shap_shared_passes_equal_one_explainer_at_a_time(adapter) -> None:
    """The GPU path (every example's explainer in its own thread, their masks in shared model
    passes) gives the values of the sequential path."""
    texts = [*TEXTS, "the plot was not bad at all but the ending was dull", "great great film"]
    items, _, forward = run_forward(adapter, texts)
    targets = targets_of(forward).tolist()
    params = helpers.params("shap", evals=120, token_budget=512)
    alone = [
        shap_method.explain_example(adapter, it, t, params)
        for it, t in zip(items, targets, strict=True)
    ]
    shares: list[float] = []
    together = shap_method.explain_shared(adapter, items, targets, params, shares.append)
    for one, shared in zip(alone, together, strict=True):
        np.testing.assert_allclose(shared.scores, one.scores, atol=1e-6, rtol=0)
        assert abs(shared.check - one.check) < 1e-6
    assert shares and max(shares) <= 1.0 + 1e-9

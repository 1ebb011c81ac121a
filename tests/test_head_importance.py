"""Head gates and head importance on tiny BERT, GPT-2 and zero-shot GPT-2: the gate is
transparent at 1, its gradient is the finite difference of the explained output, ablation is
a forward with the head's output zeroed by hand (its slice of the output projection's weight),
and the hooks never outlive the call."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.methods import TEXTS, build_adapter, run_forward, save_checkpoint

from attention_atlas.ingest.attention_capture import CaptureSpec, capture_from_tuple
from attention_atlas.ingest.head_gates import head_gates, ones_gates, output_projections
from attention_atlas.ingest.head_importance import (
    ablation_batch,
    gradient_importance,
    head_stats_batch,
    role_sink_ids,
)
from attention_atlas.ingest.methods.base import explained

torch.set_num_threads(1)
KINDS = ("bert", "gpt2", "zero_shot")


@pytest.fixture(scope="module", params=KINDS)
def adapter(request, tmp_path_factory):
    return build_adapter(
        request.param, save_checkpoint(request.param, tmp_path_factory.mktemp("m"))
    )


def _captured(adapter, attentions, items):
    return capture_from_tuple(attentions, items, CaptureSpec(role_sink_ids=role_sink_ids(adapter)))


def _hooks(adapter) -> int:
    return sum(len(m._forward_pre_hooks) for m in adapter.model.modules())


def test_gates_of_one_leave_outputs_and_attentions_unchanged_bit_for_bit(adapter) -> None:
    items, batch, plain = run_forward(adapter, TEXTS)
    gates = ones_gates(batch.size, adapter.num_layers, adapter.num_heads, adapter.device)
    with torch.no_grad(), head_gates(adapter.model, gates, adapter.num_layers, adapter.num_heads):
        assert _hooks(adapter) == adapter.num_layers
        gated = adapter.forward(batch, output_attentions=True)
    assert torch.equal(gated.logits, plain.logits)
    for a, b in zip(gated.attentions, plain.attentions, strict=True):
        assert torch.equal(a, b)
    assert _hooks(adapter) == 0


def test_hooks_are_removed_after_an_error(adapter) -> None:
    gates = ones_gates(1, adapter.num_layers, adapter.num_heads, adapter.device)
    with (
        pytest.raises(RuntimeError, match="boom"),
        head_gates(adapter.model, gates, adapter.num_layers, adapter.num_heads),
    ):
        raise RuntimeError("boom")
    assert _hooks(adapter) == 0


def _explained_at(adapter, batch, targets, gates) -> np.ndarray:
    with torch.no_grad(), head_gates(adapter.model, gates, adapter.num_layers, adapter.num_heads):
        return explained(adapter.forward(batch).logits, targets, "prob").double().numpy()


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_gate_gradient_equals_a_finite_difference(kind: str, tmp_path) -> None:
    adapter = build_adapter(kind, save_checkpoint(kind, tmp_path))
    adapter.model.double()
    _, batch, forward = run_forward(adapter, TEXTS[:2])
    targets = forward.logits.argmax(-1)
    grad = gradient_importance(adapter, batch, targets, "prob")  # [B, L, H]
    layers, heads, eps = adapter.num_layers, adapter.num_heads, 1e-5
    finite = np.zeros_like(grad, dtype=np.float64)
    for layer in range(layers):
        for head in range(heads):
            up = torch.ones((batch.size, layers, heads), dtype=torch.float64)
            down = up.clone()
            up[:, layer, head] += eps
            down[:, layer, head] -= eps
            delta = _explained_at(adapter, batch, targets, up) - _explained_at(
                adapter, batch, targets, down
            )
            finite[:, layer, head] = np.abs(delta / (2 * eps))
    assert finite.max() > 1e-4  # the heads matter at all on this sharpened model
    np.testing.assert_allclose(grad, finite, rtol=1e-3, atol=1e-3 * finite.max())


def _zeroed_by_hand(adapter, layer: int, head: int):
    """A copy of the projection weight with head ``head``'s input slice zeroed, restorer."""
    projection = output_projections(adapter.model, adapter.num_layers)[layer]
    weight = projection.weight
    width = weight.shape[1 if isinstance(projection, torch.nn.Linear) else 0] // adapter.num_heads
    saved = weight.detach().clone()
    with torch.no_grad():
        if isinstance(projection, torch.nn.Linear):  # out = x W^T + b: W [out, in]
            weight[:, head * width : (head + 1) * width] = 0
        else:  # GPT-2's Conv1D: out = x W + b, W [in, out]
            weight[head * width : (head + 1) * width, :] = 0
    return lambda: weight.data.copy_(saved)


def _probability(adapter, text: str, target: int) -> float:
    _, batch, forward = run_forward(adapter, [text])
    return float(torch.softmax(forward.logits.float(), -1)[0, target])


def test_ablation_equals_a_forward_with_the_head_zeroed_by_hand(adapter) -> None:
    items, _, forward = run_forward(adapter, TEXTS)
    drops = ablation_batch(adapter, items, forward.logits, budget=256)  # several chunks
    assert drops.shape == (len(TEXTS), adapter.num_layers, adapter.num_heads)
    targets = forward.logits.argmax(-1).tolist()
    for b, text in enumerate(TEXTS[:2]):
        base = _probability(adapter, text, targets[b])
        for layer in range(adapter.num_layers):
            for head in range(adapter.num_heads):
                restore = _zeroed_by_hand(adapter, layer, head)
                try:
                    manual = base - _probability(adapter, text, targets[b])
                finally:
                    restore()
                assert drops[b, layer, head] == pytest.approx(manual, abs=1e-6)
    assert np.abs(drops).max() > 1e-3  # zeroing a head changes something


def test_head_stats_of_a_batch_have_layer_by_head_shapes(adapter) -> None:
    items, batch, forward = run_forward(adapter, TEXTS)
    captured = _captured(adapter, forward.attentions, items)
    stats = head_stats_batch(adapter, batch, items, captured, forward.logits, "prob")
    shape = (adapter.num_layers, adapter.num_heads)
    for s in stats:
        assert s.gradient is not None and s.gradient.shape == shape
        assert s.ablation is None
        assert s.roles.shape == (*shape, 5) and s.structure_share.shape == shape
        assert np.all((s.structure_share >= 0) & (s.structure_share <= 1 + 1e-6))
    if adapter.kind != "decoder":  # [CLS]/[SEP] and the zero-shot prompt are frame tokens
        assert min(float(s.structure_share.max()) for s in stats) > 0


def test_gates_on_a_tiny_llama_with_grouped_query_attention() -> None:
    """Llama's o_proj sees the query heads (after repeat_kv): 4 heads over 2 key/value heads."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=50,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(config).eval()
    ids = torch.randint(0, 50, (2, 7))
    with torch.no_grad():
        plain = model(input_ids=ids).logits
        with head_gates(model, torch.ones(2, 2, 4), 2, 4):
            same = model(input_ids=ids).logits
        gates = torch.ones(2, 2, 4)
        gates[:, 1, 3] = 0
        with head_gates(model, gates, 2, 4):
            ablated = model(input_ids=ids).logits
        projection = output_projections(model, 2)[1]
        saved = projection.weight.detach().clone()
        projection.weight[:, 3 * 8 : 4 * 8] = 0  # head 3's input slice of o_proj [out, in]
        manual = model(input_ids=ids).logits
        projection.weight.copy_(saved)
    assert torch.equal(same, plain)
    torch.testing.assert_close(ablated, manual, rtol=0, atol=1e-6)
    assert not torch.allclose(ablated, plain)


@pytest.mark.parametrize("kind", ["bart", "t5"])
def test_encoder_decoder_gates_the_encoder_heads(kind: str, tmp_path) -> None:
    """The main stack of an encoder-decoder is its encoder: gates there, transparent at 1."""
    from support import checkpoints
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from attention_atlas.ingest.encoder_decoder import EncoderDecoderAdapter

    folder = getattr(checkpoints, f"save_tiny_{kind}")(tmp_path / kind)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    adapter = EncoderDecoderAdapter(model, AutoTokenizer.from_pretrained(folder), ["n", "p"])
    items, batch, plain = run_forward(adapter, TEXTS)
    gates = ones_gates(batch.size, adapter.num_layers, adapter.num_heads, adapter.device)
    with torch.no_grad(), head_gates(adapter.model, gates, adapter.num_layers, adapter.num_heads):
        assert torch.equal(adapter.forward(batch).logits, plain.logits)
    captured = _captured(adapter, plain.attentions, items)
    stats = head_stats_batch(adapter, batch, items, captured, plain.logits, "prob")
    assert all(s.gradient is not None and s.gradient.max() > 0 for s in stats)

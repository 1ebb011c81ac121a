"""Attention captured layer by layer by forward hooks equals what the old path took from a pass
that held every layer's full matrix: the stored rows and full tensors, the scores of the
attention methods (attention, rollout, flow) and the head role stats, exactly, on padded
batches of BERT, GPT-2 and a grouped-query Llama; and the hooks are gone afterwards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from support.checkpoints import save_tiny_bert, save_tiny_llama

from attention_atlas.db.analysis.head_roles import punctuation_mask, role_stats
from attention_atlas.ingest.attention_capture import CaptureSpec, capture_from_tuple
from attention_atlas.ingest.attention_hooks import attention_modules, captured_forward
from attention_atlas.ingest.head_importance import role_sink_ids
from attention_atlas.ingest.loading import LoadRequest, load_adapter
from attention_atlas.ingest.methods.attention import flow_scores, rollout_scores

TEXTS = [
    "the movie was good",
    "a very long and boring film with a dull plot and bad acting but great music at the end",
    "not bad",
]
FULL_CAP = 8  # tokens: the texts fall on both sides


def save_tiny_deberta(folder: Path) -> Path:
    """A 2-layer DeBERTa-v2 classifier (its attention modules return weights only when asked)."""
    from transformers import AutoTokenizer, DebertaV2Config, DebertaV2ForSequenceClassification

    save_tiny_bert(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    config = DebertaV2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=2,
    )
    DebertaV2ForSequenceClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_deberta_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_deberta(tmp_path_factory.mktemp("tiny-deberta"))


@pytest.fixture(scope="module")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Here without ../shared: the tokenizer is trained locally."""
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


def _old_path(attentions: tuple[torch.Tensor, ...], b: int, pos: int, n: int):
    """What main's compute and methods took from the held tuple: rows [L, H, n] float32, full
    [L, H, n, n] float16, and the float64 stack the attention methods read."""
    stacked = torch.stack([a.detach().float() for a in attentions], dim=1).cpu()
    full = stacked[b, :, :, :n, :n].numpy()
    exact = torch.stack([a[b, :, :n, :n] for a in attentions]).detach().double().numpy()
    return full[:, :, pos, :], full.astype(np.float16), exact


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "deberta"])
def test_hooked_capture_equals_the_held_attentions(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """DeBERTa-v2's modules return no weights unless asked: it takes the held tuple."""
    folder = request.getfixturevalue(f"tiny_{kind}_dir")
    adapter = load_adapter(LoadRequest(str(folder), device="cpu"), None)
    items = [adapter.encode(t) for t in TEXTS]
    assert len({i.length for i in items}) == len(items)  # a padded batch
    batch = adapter.collate(items)
    spec = CaptureSpec(
        full_max_tokens=FULL_CAP,
        rollout=True,
        flow_max_tokens=FULL_CAP,
        role_sink_ids=role_sink_ids(adapter),
    )
    hooked = kind != "deberta"
    assert len(attention_modules(adapter)) == (adapter.num_layers if hooked else 0)
    hooks = _hook_count(adapter.model)  # transformers' own output recorders stay installed
    forward, captured = captured_forward(adapter, batch, items, spec)
    assert (forward.attentions is None) == hooked  # with hooks no layer's matrix was held
    assert _hook_count(adapter.model) == hooks  # ours are gone
    with torch.no_grad():
        held = adapter.forward(batch, output_attentions=True)
    assert held.attentions is not None
    torch.testing.assert_close(forward.logits, held.logits, rtol=0, atol=0)
    for b, (item, got) in enumerate(zip(items, captured, strict=True)):
        pos, n = item.prediction_position, item.length
        rows, full, exact = _old_path(held.attentions, b, pos, n)
        np.testing.assert_array_equal(got.prediction_rows(), rows)
        np.testing.assert_array_equal(got.rollout[pos], rollout_scores(exact, pos))
        np.testing.assert_array_equal(got.role_stats(), _held_roles(adapter, held, b, item))
        if n <= FULL_CAP:
            np.testing.assert_array_equal(got.full_tensor(), full)
            np.testing.assert_array_equal(_flow(got.residual, pos), flow_scores(exact, pos))
        else:
            assert got.full_tensor() is None and got.residual is None


def _held_roles(adapter, held, b: int, item) -> np.ndarray:
    """Head roles as computed before the capture kept them (issue 24): from every layer's
    full [n, n] matrices at once."""
    n = item.length
    full = torch.stack([layer[b, :, :n, :n] for layer in held.attentions]).float().numpy()
    sink = np.isin(np.asarray(item.input_ids), list(adapter.tokenizer.all_special_ids))
    return role_stats(full, sink, punctuation_mask(item.tokens))


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def _flow(residual: list[np.ndarray] | None, pos: int) -> np.ndarray:
    from attention_atlas.ingest.methods.attention import flow_from_residual

    assert residual is not None
    return flow_from_residual(np.stack(residual), pos)


def test_capture_from_the_tuple_equals_the_hooks(tiny_gpt2_dir: Path) -> None:
    """Callers holding a full pass (tests, the fallback) get the same capture as the hooks."""
    adapter = load_adapter(LoadRequest(str(tiny_gpt2_dir), device="cpu"), None)
    items = [adapter.encode(t) for t in TEXTS]
    batch = adapter.collate(items)
    spec = CaptureSpec(full_max_tokens=100, stored_layers="last", rollout=True)
    _, hooked = captured_forward(adapter, batch, items, spec)
    with torch.no_grad():
        held = adapter.forward(batch, output_attentions=True).attentions
    assert held is not None
    for a, b in zip(hooked, capture_from_tuple(held, items, spec), strict=True):
        np.testing.assert_array_equal(a.prediction_rows(), b.prediction_rows())
        np.testing.assert_array_equal(a.rollout, b.rollout)
        full = a.full_tensor()
        assert full is not None and full.shape[0] == 1  # the last layer only
        np.testing.assert_array_equal(full, b.full_tensor())

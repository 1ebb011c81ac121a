"""Which heads the prediction depends on, and what each head attends to, for one batch.

- **gradient** importance (Michel, Levy & Neubig, NeurIPS 2019, "Are Sixteen Heads Really
  Better than One?"): with a gate xi = 1 on every head's output (``ingest.head_gates``),
  |d f / d xi_h| of the explained output f (the predicted class's probability or logit, as
  ``--explain-output``), every head of every example of the batch from one backward pass.
- **ablation** importance (opt-in, ``--head-ablation``): p(x) - p(x with head h's output
  zeroed) for the predicted class's probability; L x H forward passes per example, packed into
  the token budget like SHAP's and the deletion tests' rows.
- **roles** and the prediction row's share on frame and punctuation tokens, from the batch's
  forward-pass attention as captured layer by layer (no extra pass, no layer's full matrix held;
  ``ingest.attention_capture``, ``db.analysis.head_roles``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from attention_atlas.db.analysis.head_roles import punctuation_mask, row_share
from attention_atlas.db.records import HeadStats
from attention_atlas.ingest.head_gates import HeadGateError, head_gates, ones_gates
from attention_atlas.ingest.methods.base import (
    DEFAULT_TOKEN_BUDGET,
    Report,
    evaluate_ids,
    explained,
    ignore_report,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText
    from attention_atlas.ingest.attention_capture import ExampleAttention


def gradient_importance(
    adapter: Adapter, batch: Batch, targets: torch.Tensor, kind: str
) -> np.ndarray:
    """[B, L, H] |d explained output / d xi| at xi = 1, one forward and one backward pass."""
    gates = ones_gates(batch.size, adapter.num_layers, adapter.num_heads, adapter.device)
    gates.requires_grad_(True)
    with torch.enable_grad(), head_gates(adapter.model, gates, *_shape(adapter)):
        logits = adapter.forward(batch).logits.float()
        (grad,) = torch.autograd.grad(explained(logits, targets, kind).sum(), gates)
    return grad.abs().float().cpu().numpy()


def ablation_importance(
    adapter: Adapter,
    items: list[EncodedText],
    targets: torch.Tensor,
    probabilities: torch.Tensor,
    *,
    budget: int = DEFAULT_TOKEN_BUDGET,
    report: Report = ignore_report,
) -> np.ndarray:
    """[B, L, H] probability of the predicted class (``probabilities`` [B]) minus the same with
    one head's output zeroed: one row per (example, layer, head), packed by ``budget``."""
    layers, heads = _shape(adapter)
    per_example = layers * heads
    knockout = 1.0 - torch.eye(per_example).reshape(per_example, layers, heads)
    rows = [np.asarray(item.input_ids) for item in items for _ in range(per_example)]
    positions = [item.prediction_position for item in items for _ in range(per_example)]
    gates = knockout.repeat(len(items), 1, 1)
    types = [item.token_type_ids for item in items for _ in range(per_example)]
    logits = evaluate_ids(
        adapter, rows, positions, budget=budget, report=report, token_types=types, gates=gates
    )
    ablated = torch.softmax(logits, dim=-1)
    chosen = targets.cpu().repeat_interleave(per_example)
    ablated_p = ablated.cpu().gather(-1, chosen[:, None]).reshape(len(items), layers, heads)
    return (probabilities.float().cpu()[:, None, None] - ablated_p).numpy()


def ablation_batch(
    adapter: Adapter,
    items: list[EncodedText],
    logits: torch.Tensor,
    *,
    budget: int = DEFAULT_TOKEN_BUDGET,
    report: Report = ignore_report,
) -> np.ndarray:
    """:func:`ablation_importance` [B, L, H] of the predicted classes of ``logits`` [B, C]."""
    targets = logits.detach().argmax(-1)
    probabilities = torch.softmax(logits.detach().float(), -1).gather(-1, targets[:, None])
    return ablation_importance(
        adapter, items, targets, probabilities.squeeze(-1), budget=budget, report=report
    )


def role_sink_ids(adapter: Adapter) -> frozenset[int]:
    """The token ids a head's ``sink`` share counts beside the first token: the specials."""
    return frozenset(adapter.tokenizer.all_special_ids)


def head_stats_batch(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    captured: Sequence[ExampleAttention],
    logits: torch.Tensor,
    kind: str,
) -> list[HeadStats]:
    """One :class:`HeadStats` (without ablation) per example of ``batch``; ``logits``
    [B, classes] and ``captured`` (captured with ``CaptureSpec(role_sink_ids=``
    :func:`role_sink_ids` ``)``) are the batch's forward pass."""
    targets = logits.detach().argmax(-1)
    try:
        gradient: np.ndarray | None = gradient_importance(adapter, batch, targets, kind)
    except HeadGateError:
        gradient = None  # an architecture whose head outputs we cannot find: no importance
    return [
        HeadStats(
            gradient=None if gradient is None else gradient[b],
            ablation=None,
            roles=attention.role_stats(),
            structure_share=row_share(
                attention.prediction_rows(), item.special_mask | punctuation_mask(item.tokens)
            ),
        )
        for b, (item, attention) in enumerate(zip(items, captured, strict=True))
    ]


def _shape(adapter: Adapter) -> tuple[int, int]:
    return adapter.num_layers, adapter.num_heads

"""Gradient methods that need one forward/backward pass at the input: ``grad_input`` and
``agrad``. Both share a single forward (with attentions) over the padded batch.

- ``grad_input``: gradient of the explained output w.r.t. the input embeddings times the
  embeddings, summed over the embedding dimension.
- ``agrad`` (Liu et al. 2021, "Rethinking Attention-Model Explainability through Faithfulness
  Violation Test"): -dL/dalpha * alpha at the prediction position's row of the last layer, mean
  over heads, L = cross-entropy of the predicted class; signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from attention_atlas.ingest.methods.base import (
    MethodResult,
    OutputParams,
    Shared,
    explained,
    targets_of,
)

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput


@dataclass(frozen=True)
class InputGradients:
    """One gradient pass at the input for a padded batch."""

    embeds: torch.Tensor  # [B, T, D]
    output_grad: torch.Tensor  # [B, T, D] d explained / d embeds
    attention: torch.Tensor  # [B, H, T, T] last layer
    loss_grad: torch.Tensor  # [B, H, T, T] dL/dalpha, L = CE of the predicted class


def input_gradients(
    adapter: Adapter, batch: Batch, targets: torch.Tensor, kind: str
) -> InputGradients:
    """Forward once with attentions and embeddings that require grad; two backward passes
    (explained output -> embeddings, cross-entropy -> last-layer attention)."""
    with torch.enable_grad():
        embeds = adapter.embed(batch.input_ids).detach().requires_grad_(True)
        out = adapter.forward(batch, inputs_embeds=embeds, output_attentions=True)
        assert out.attentions is not None  # asked for
        last = out.attentions[-1]
        logits = out.logits.float()
        output = explained(logits, targets, kind).sum()
        (output_grad,) = torch.autograd.grad(output, embeds, retain_graph=True)
        loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
        (loss_grad,) = torch.autograd.grad(loss, last)
    return InputGradients(embeds.detach(), output_grad, last.detach(), loss_grad)


def agrad_scores(attention: np.ndarray, loss_grad: np.ndarray) -> np.ndarray:
    """AGrad [n] from the last layer's prediction rows: attention, dL/dalpha [H, n]."""
    return -(loss_grad * attention).mean(axis=0)


def _shared_pass(
    adapter: Adapter,
    batch: Batch,
    forward: ForwardOutput,
    params: OutputParams,
    shared: Shared | None,
) -> InputGradients:
    shared = shared if shared is not None else Shared()
    return shared.get(
        ("input_gradients", params.output),
        lambda: input_gradients(adapter, batch, targets_of(forward), params.output),
    )


def compute_grad_input(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: OutputParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    grads = _shared_pass(adapter, batch, forward, params, shared)
    scores = (grads.output_grad * grads.embeds).sum(-1).float().cpu().numpy()
    return [
        MethodResult(scores[b, : item.length].astype(np.float32)) for b, item in enumerate(items)
    ]


def compute_agrad(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: OutputParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    grads = _shared_pass(adapter, batch, forward, params, shared)
    results = []
    for b, item in enumerate(items):
        pos, n = item.prediction_position, item.length
        attention = grads.attention[b, :, pos, :n].double().cpu().numpy()
        loss_grad = grads.loss_grad[b, :, pos, :n].double().cpu().numpy()
        results.append(MethodResult(agrad_scores(attention, loss_grad).astype(np.float32)))
    return results

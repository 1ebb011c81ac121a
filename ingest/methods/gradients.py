"""Gradient methods that need one forward/backward pass at the input: ``grad_input`` and
``agrad``. Both share a single forward (with attentions) over the padded batch.

- ``grad_input``: gradient of the explained output w.r.t. the input embeddings times the
  embeddings, summed over the embedding dimension.
- ``agrad`` (Liu et al. 2021, "Rethinking Attention-Model Explainability through Faithfulness
  Violation Test"): -dL/dalpha * alpha at the prediction position's row of the last layer, mean
  over heads, L = cross-entropy of the predicted class; signed. On an encoder-decoder run
  ``agrad`` reads the encoder, ``agrad_decoder`` and ``agrad_cross`` the last layer of the
  decoder's self-attention and of the cross-attention (Karpekov & Miller 2023, chart 3), all
  from the same backward pass.
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
from attention_atlas.models.vocabulary import MAIN_STACK

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput


@dataclass(frozen=True)
class InputGradients:
    """One gradient pass at the input for a padded batch."""

    embeds: torch.Tensor  # [B, T, D]
    output_grad: torch.Tensor  # [B, T, D] d explained / d embeds
    # stack -> (last layer's attention, dL/dalpha), each [B, H, T, T], L = CE of the
    # predicted class; the main stack always, an encoder-decoder's decoder and cross too
    attention: dict[str, tuple[torch.Tensor, torch.Tensor]]


def input_gradients(
    adapter: Adapter, batch: Batch, targets: torch.Tensor, kind: str
) -> InputGradients:
    """Forward once with attentions and embeddings that require grad; two backward passes
    (explained output -> embeddings, cross-entropy -> every stack's last-layer attention)."""
    with torch.enable_grad():
        embeds = adapter.embed(batch.input_ids).detach().requires_grad_(True)
        out = adapter.forward(batch, inputs_embeds=embeds, output_attentions=True)
        assert out.attentions is not None  # asked for
        lasts = {MAIN_STACK: out.attentions[-1]} | {s: a[-1] for s, a in out.stacks.items()}
        logits = out.logits.float()
        output = explained(logits, targets, kind).sum()
        (output_grad,) = torch.autograd.grad(output, embeds, retain_graph=True)
        loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
        loss_grads = torch.autograd.grad(loss, list(lasts.values()))
    attention = {s: (a.detach(), g) for (s, a), g in zip(lasts.items(), loss_grads, strict=True)}
    return InputGradients(embeds.detach(), output_grad, attention)


def agrad_scores(attention: np.ndarray, loss_grad: np.ndarray) -> np.ndarray:
    """AGrad [n] from the last layer's prediction rows: attention, dL/dalpha [H, n]."""
    return -(loss_grad * attention).mean(axis=0)


def shared_input_gradients(
    adapter: Adapter,
    batch: Batch,
    forward: ForwardOutput,
    params: OutputParams,
    shared: Shared | None,
) -> InputGradients:
    """The batch's one gradient pass, made by the first method of the batch that needs it
    (grad x input, AGrad, saliency) and reused by the others."""
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
    grads = shared_input_gradients(adapter, batch, forward, params, shared)
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
    stack: str = MAIN_STACK,
) -> list[MethodResult]:
    """AGrad of ``stack``'s last layer (``agrad_decoder``, ... pass theirs)."""
    grads = shared_input_gradients(adapter, batch, forward, params, shared)
    if stack not in grads.attention:
        raise ValueError(f"no {stack} attention: {stack} methods need an encoder-decoder model")
    last, last_grad = grads.attention[stack]
    results = []
    for b, item in enumerate(items):
        pos, n = item.prediction_position, item.length
        attention = last[b, :, pos, :n].double().cpu().numpy()
        loss_grad = last_grad[b, :, pos, :n].double().cpu().numpy()
        results.append(MethodResult(agrad_scores(attention, loss_grad).astype(np.float32)))
    return results

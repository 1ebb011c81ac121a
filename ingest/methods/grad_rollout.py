"""Gradient-weighted attention rollout (Chefer, Gur & Wolf, ICCV 2021, "Generic
Attention-model Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers").

One forward pass with every layer's attention A_l [heads, T, T] and one backward pass of the
explained output f (the predicted class's probability or logit) to those attentions give
grad_l = d f / d A_l. From R = I, layer by layer from the first up:

    cam_l = mean_heads(ReLU(grad_l * A_l))      (the paper's eq. 5, ``avg_heads``)
    R     = R + cam_l R                          (eq. 6, ``apply_self_attention_rules``)

and the scores are the prediction position's row of R. The identity's own 1 at the prediction
position is taken out (the authors zero [CLS]'s own entry), so every score is relevance the
layers moved. Causal masks need no special case: a masked entry of A is 0, so is its share of
cam. Unsigned (ReLU keeps the positive evidence). Padding never mixes in: pad keys have zero
attention. Reference: :func:`chefer_reference`, the authors' equations applied to one unpadded
example with attention gradients retained by ``retain_grad``.
"""

from __future__ import annotations

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


def attention_gradients(
    adapter: Adapter, batch: Batch, targets: torch.Tensor, kind: str
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """Every layer's attention [B, H, T, T] and d(explained output)/d(attention), one pass."""
    with torch.enable_grad():
        out = adapter.forward(batch, output_attentions=True)
        assert out.attentions is not None  # asked for
        output = explained(out.logits.float(), targets, kind).sum()
        grads = torch.autograd.grad(output, out.attentions)
    return tuple(a.detach() for a in out.attentions), grads


def relevance_rows(
    attentions: tuple[torch.Tensor, ...], grads: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    """R - I after every layer, [B, T, T] float32, for R = I; R += mean_heads(ReLU(grad * A)) R.
    Kept as Q = R - I (Q += cam + cam Q): subtracting the identity's 1 from a float32 R at the
    end would cancel the small relevance moved to the prediction position itself."""
    batch, _, width, _ = attentions[0].shape
    moved = torch.zeros(batch, width, width, device=attentions[0].device)
    for attention, grad in zip(attentions, grads, strict=True):
        cam = (grad.float() * attention.float()).clamp(min=0).mean(dim=1)
        moved = moved + cam + cam @ moved
    return moved


def compute_grad_rollout(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: OutputParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    attentions, grads = attention_gradients(adapter, batch, targets_of(forward), params.output)
    moved = relevance_rows(attentions, grads)
    results = []
    for b, item in enumerate(items):
        row = moved[b, item.prediction_position, : item.length]
        results.append(MethodResult(row.cpu().numpy().astype(np.float32)))
    return results


def chefer_reference(
    adapter: Adapter, item: EncodedText, target: int, params: OutputParams
) -> np.ndarray:
    """The authors' equations (``avg_heads``, ``apply_self_attention_rules`` of
    hila-chefer/Transformer-MM-Explainability) on one unpadded example: [n]."""
    single = adapter.collate([item])
    with torch.enable_grad():
        out = adapter.forward(single, output_attentions=True)
        assert out.attentions is not None
        for attention in out.attentions:
            attention.retain_grad()
        target_t = torch.tensor([target], device=adapter.device)
        explained(out.logits.float(), target_t, params.output).sum().backward()
    n = item.length
    relevance = torch.eye(n, dtype=torch.float64)
    for attention in out.attentions:
        cam = attention[0].detach().double().cpu()
        grad = attention.grad[0].double().cpu()  # type: ignore[index]
        cam = (grad * cam).clamp(min=0).mean(dim=0)  # rule 5
        relevance = relevance + cam @ relevance  # rule 6
    pos = item.prediction_position
    relevance[pos, pos] -= 1.0
    return relevance[pos].numpy()

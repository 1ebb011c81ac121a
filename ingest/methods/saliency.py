"""Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman 2014, as the week 7 notes define it
for text): |d f / d e_i|, the L2 norm over the embedding dimension of the gradient of the
explained output f at token i's input (word) embedding e_i. Unsigned: it says how sensitive the
output is to a token, not in which direction the token pushes.

It reads the batch's one gradient pass (:func:`~ingest.methods.gradients.shared_input_gradients`),
so with ``grad_input`` or ``agrad`` in the run it costs no pass of its own; alone it costs one
forward and one backward pass. Reference: Captum ``Saliency`` on the embeddings (the absolute
gradient per dimension), reduced by the same L2 norm (:func:`captum_reference`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from attention_atlas.ingest.methods.base import MethodResult, OutputParams, Shared, explained
from attention_atlas.ingest.methods.gradients import shared_input_gradients

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput


def compute_saliency(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: OutputParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    grads = shared_input_gradients(adapter, batch, forward, params, shared)
    norms = torch.linalg.vector_norm(grads.output_grad.float(), dim=-1).cpu().numpy()
    return [
        MethodResult(norms[b, : item.length].astype(np.float32)) for b, item in enumerate(items)
    ]


def captum_reference(
    adapter: Adapter, item: EncodedText, target: int, params: OutputParams
) -> np.ndarray:
    """Captum ``Saliency`` on one example's input embeddings, L2 norm over the dimension: [n]."""
    from captum.attr import Saliency

    single = adapter.collate([item])
    target_t = torch.tensor([target], device=adapter.device)

    def forward_func(embeds: torch.Tensor) -> torch.Tensor:
        logits = adapter.forward(single, inputs_embeds=embeds).logits.float()
        return explained(logits, target_t, params.output)

    with torch.no_grad():
        x = adapter.embed(single.input_ids)
    attr = Saliency(forward_func).attribute(x, abs=True)
    return torch.linalg.vector_norm(attr[0].float(), dim=-1).detach().cpu().numpy()

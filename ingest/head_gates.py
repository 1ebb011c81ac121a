"""Head gates: a multiplier on each attention head's output, owned by us through hooks.

Transformers 5 removed ``head_mask``. Every supported architecture concatenates the heads'
outputs (each ``attention @ values``, [tokens, head_dim]) and sends them through one output
projection: BERT/RoBERTa/MiniLM ``attention.output.dense``, DistilBERT ``attention.out_lin``,
GPT-2 ``attn.c_proj``, Llama/Mistral/Qwen ``self_attn.o_proj``, BART-like
``self_attn.out_proj``, T5 ``SelfAttention.o`` (of an encoder-decoder, the encoder's: its main
attention stack). A forward pre-hook on that projection sees the concatenation [B, T, H *
head_dim]; :func:`head_gates` multiplies each head's slice by a gate xi [B, L, H] (Michel, Levy
& Neubig, NeurIPS 2019, "Are Sixteen Heads Really Better than One?"). With every gate 1 the
model's outputs are unchanged bit for bit (x * 1.0 == x in floating point); a gate of 0 removes
that head's output (ablation). With GQA the projection's input is per query head, so H is the
model's ``num_attention_heads`` everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from transformers import PreTrainedModel

# the output projection of a layer's self-attention, as a suffix of its module name
OUTPUT_PROJECTIONS = (
    ".attention.output.dense",
    ".attention.out_lin",
    ".attn.c_proj",
    ".self_attn.o_proj",
    ".self_attn.out_proj",
    ".SelfAttention.o",
)


class HeadGateError(ValueError):
    """The architecture's head outputs could not be found (no gate, no head importance)."""


def output_projections(model: PreTrainedModel, num_layers: int) -> list[torch.nn.Module]:
    """The self-attention output projection of each layer, in layer order (``num_layers``)."""
    named = [
        (name, module)
        for name, module in model.named_modules()
        if any(name.endswith(suffix) for suffix in OUTPUT_PROJECTIONS)
    ]
    found = [module for _, module in named]
    if len(found) != num_layers:  # encoder-decoder: the main stack is the encoder's
        found = [module for name, module in named if "encoder" in name.split(".")]
    if len(found) != num_layers:
        raise HeadGateError(
            f"found {len(found)} attention output projections for {num_layers} layers "
            f"in {type(model).__name__}"
        )
    return found


def _gate_hook(gate: torch.Tensor, num_heads: int) -> Any:
    """A pre-hook multiplying head h's slice of the projection input by ``gate[:, h]`` [B, H]."""

    def hook(_module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        x = args[0]  # [B, T, H * head_dim]
        heads = x.reshape(*x.shape[:-1], num_heads, x.shape[-1] // num_heads)
        scale = gate.to(x.dtype).reshape(gate.shape[0], *([1] * (x.dim() - 2)), num_heads, 1)
        return ((heads * scale).reshape(x.shape), *args[1:])

    return hook


@contextmanager
def head_gates(
    model: PreTrainedModel, gates: torch.Tensor, num_layers: int, num_heads: int
) -> Iterator[None]:
    """Run ``model`` with head outputs multiplied by ``gates`` [B, L, H] (B = the batch the
    model is called with); the hooks are removed on exit, also after an error."""
    projections = output_projections(model, num_layers)
    handles = [
        projection.register_forward_pre_hook(_gate_hook(gates[:, layer], num_heads))
        for layer, projection in enumerate(projections)
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def ones_gates(batch: int, num_layers: int, num_heads: int, device: torch.device) -> torch.Tensor:
    """Gates [B, L, H] of 1: the model unchanged."""
    return torch.ones((batch, num_layers, num_heads), device=device)

"""Attention kept layer by layer as the model runs, instead of every layer's full matrix.

``output_attentions=True`` makes a HuggingFace model hold every layer's [B, heads, T, T]
attention until the forward pass ends: at 32 layers x 32 heads x 512 tokens that is 1 GiB of
float32 per example. Nothing downstream needs all of it at once. What each consumer reads:

- the store, the head grids, the sink shares and the ``attention`` method: each layer's
  prediction-position rows [heads, n] (small);
- the full token x token tensor: only for examples up to ``--full-attention-max-tokens``, and
  only the layers ``--attention-rows`` stores;
- ``rollout``: the product A'_L ... A'_1 of per-layer [n, n] matrices, built up from the first
  layer (Abnar & Zuidema 2020), so one running [n, n] product per example is enough;
- ``flow``: every layer's [n, n] residual matrix, but only for examples up to
  ``--flow-max-tokens``;
- head roles (``db.analysis.head_roles.role_stats``, issue 24): each head's statistics over
  its own [n, n] matrix, layer by layer, so each layer's [heads, 5] as the layer runs;
- ``agrad`` differentiates the last layer's attention in its own gradient pass
  (``methods.gradients``), not from this one.

:class:`AttentionCapture` takes one layer's weights at a time (:meth:`AttentionCapture.add`)
and keeps only that; ``ingest.attention_hooks.captured_forward`` feeds it from forward hooks on
the model's attention modules, so each layer's matrix is freed when the next layer runs.
:func:`capture_from_tuple` feeds the same accumulator from a pass that returned every layer
(the old path; tests and callers that already hold one), so both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from attention_atlas.db.analysis.head_roles import ROLE_STATS, punctuation_mask, role_stats
from attention_atlas.models import vocabulary


class Positioned(Protocol):
    """An encoded example as the capture sees it (``ingest.adapters.EncodedText``)."""

    @property
    def length(self) -> int: ...

    @property
    def prediction_position(self) -> int: ...

    @property
    def input_ids(self) -> list[int]: ...

    @property
    def tokens(self) -> list[str]: ...


@dataclass(frozen=True)
class CaptureSpec:
    """What to keep per example beyond the prediction rows (always kept, every layer)."""

    full_max_tokens: int = 0  # keep the full [layers, heads, n, n] tensor up to this length
    stored_layers: str = "all"  # vocabulary.ATTENTION_ROWS: which layers' full tensor to keep
    rollout: bool = False  # keep the running rollout product [n, n]
    flow_max_tokens: int | None = None  # keep residual [layers, n, n] up to this length
    # keep every head's role stats; the sink is the first token and these token ids (specials)
    role_sink_ids: frozenset[int] | None = None


@dataclass
class ExampleAttention:
    """What the capture kept of one example (length n, prediction position ``position``)."""

    position: int
    length: int
    rows: list[np.ndarray] = field(default_factory=list)  # per layer [heads, n] float32
    full: list[np.ndarray] | None = None  # per stored layer [heads, n, n] float16
    rollout: np.ndarray | None = None  # [n, n] float64: A'_l ... A'_1 so far
    residual: list[np.ndarray] | None = None  # per layer [n, n] float64 (flow)
    roles: list[np.ndarray] | None = None  # per layer [heads, 5] float32 (head_roles)
    role_masks: tuple[np.ndarray, np.ndarray] = (np.zeros(0, bool), np.zeros(0, bool))

    def prediction_rows(self) -> np.ndarray:
        """[layers, heads, n] float32."""
        return np.stack(self.rows)

    def full_tensor(self) -> np.ndarray | None:
        """[stored layers, heads, n, n] float16, or None past the length cap."""
        return np.stack(self.full) if self.full else None

    def role_stats(self) -> np.ndarray:
        """[layers, heads, 5] ``head_roles.role_stats`` of every head (captured with
        ``CaptureSpec.role_sink_ids``)."""
        if self.roles is None:
            raise ValueError("head roles need a capture with CaptureSpec(role_sink_ids=...)")
        return np.stack(self.roles)


def residual_layer(attn: np.ndarray) -> np.ndarray:
    """A' = 0.5 * mean_heads(A) + 0.5 * I with rows renormalised: attn [H, n, n] -> [n, n]
    (Abnar & Zuidema 2020: the residual connection as an identity matrix)."""
    n = attn.shape[-1]
    mixed = 0.5 * attn.mean(axis=0) + 0.5 * np.eye(n)
    return mixed / mixed.sum(axis=-1, keepdims=True)


class AttentionCapture:
    """Accumulates a batch's attention one layer at a time (layers must arrive in order)."""

    def __init__(self, items: Sequence[Positioned], num_layers: int, spec: CaptureSpec) -> None:
        self.spec = spec
        self.num_layers = num_layers
        self.layers_seen = 0
        self.examples = [_start(item, spec) for item in items]

    def add(self, weights: torch.Tensor) -> None:
        """One layer's attention [B, heads, T, T] (padded); keeps only what the spec asks."""
        if weights is None:
            raise RuntimeError(
                "the model returned no attention weights: load it with attn_implementation='eager'"
            )
        layer = self.layers_seen
        self.layers_seen += 1
        stored = vocabulary.stored_layer(self.spec.stored_layers, layer, self.num_layers)
        weights = weights.detach()
        picked = weights[
            torch.arange(len(self.examples), device=weights.device),
            :,
            torch.tensor([e.position for e in self.examples], device=weights.device),
        ]  # [B, heads, T]
        rows = picked.float().cpu().numpy()
        for b, example in enumerate(self.examples):
            n = example.length
            example.rows.append(rows[b, :, :n])
            if example.full is not None and stored:
                example.full.append(weights[b, :, :n, :n].float().cpu().numpy().astype(np.float16))
            if example.rollout is not None or example.residual is not None:
                _mix(example, weights[b, :, :n, :n].double().cpu().numpy())
            if example.roles is not None:
                example.roles.append(_layer_roles(weights[b, :, :n, :n], example.role_masks))

    def finish(self) -> list[ExampleAttention]:
        """The examples' captures; raises unless every layer arrived."""
        if self.layers_seen != self.num_layers:
            raise RuntimeError(
                f"captured attention of {self.layers_seen} layers, the model has {self.num_layers}"
            )
        return self.examples


def _start(item: Positioned, spec: CaptureSpec) -> ExampleAttention:
    n = item.length
    flow = spec.flow_max_tokens is not None and n <= spec.flow_max_tokens
    example = ExampleAttention(
        position=item.prediction_position,
        length=n,
        full=[] if n <= spec.full_max_tokens and spec.stored_layers != "none" else None,
        residual=[] if flow else None,
        rollout=np.empty((0, 0)) if spec.rollout else None,
    )
    if spec.role_sink_ids is not None:
        sink = np.isin(np.asarray(item.input_ids), list(spec.role_sink_ids))
        example.roles, example.role_masks = [], (sink, punctuation_mask(item.tokens))
    return example


def _layer_roles(attn: torch.Tensor, masks: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """[heads, 5] role stats of one layer's [heads, n, n]; one head at a time, so the float64
    working copies stay [n, n] (the numbers are role_stats' own: each head's are independent)."""
    square = attn.float().cpu().numpy()
    out = np.empty((square.shape[0], len(ROLE_STATS)), dtype=np.float32)
    for head in range(square.shape[0]):
        out[head] = role_stats(square[None, head : head + 1], *masks)[0, 0]
    return out


def _mix(example: ExampleAttention, attn: np.ndarray) -> None:
    """Fold one layer [H, n, n] float64 into the rollout product and the flow's layers."""
    layer = residual_layer(attn)
    if example.residual is not None:
        example.residual.append(layer)
    if example.rollout is not None:
        example.rollout = layer if example.rollout.size == 0 else layer @ example.rollout


# -- feeding the capture ----------------------------------------------------------------------
def capture_from_tuple(
    attentions: Sequence[torch.Tensor], items: Sequence[Positioned], spec: CaptureSpec
) -> list[ExampleAttention]:
    """The capture of a pass that returned every layer's attention (layers x [B, H, T, T])."""
    capture = AttentionCapture(items, len(attentions), spec)
    for weights in attentions:
        capture.add(weights)
    return capture.finish()

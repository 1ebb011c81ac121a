"""Attention-derived scores: raw last-layer attention, attention rollout and attention flow.

- ``attention``: the prediction position's attention row, last layer, mean over heads
  (Karpekov et al., eq. 1).
- ``rollout`` (Abnar & Zuidema 2020): per layer A' = 0.5 * mean_heads(A) + 0.5 * I with rows
  renormalised, multiplied from the first layer up (R = A'_L ... A'_1); the prediction row of R.
- ``flow`` (Abnar & Zuidema 2020): the maximum flow from each input token to the prediction
  position through the layered graph of residual-corrected attention (capacities A'); opt-in and
  length-capped because it needs one max-flow per token.

Encoder-decoder runs (``ingest.encoder_decoder``): ``attention`` and ``flow`` read the encoder
(Karpekov & Miller 2023 find only its attention picks tokens that matter), ``attention_decoder``
and ``attention_cross`` the same row of the decoder's self-attention and of the
cross-attention, and ``rollout`` follows Chefer et al. 2021 ("Generic Attention-model
Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers", ICCV): the
encoder's self-attention rolled out (their rule 6), the decoder's self-attention rolled out
over the decoder positions (rules 6-7), and each cross-attention layer adding
R_de += R̄_dd^T Ā R̄_ee (rule 10, R̄ the residual-normalised relevance of eqs. 8-9; rule 11 drops
out as the encoder never attends to the decoder), with Ā = mean over heads of the attention
(attention only, no gradients, as our one-stack rollout). The score is the prediction row of
R_de: relevance of each input token for the pooled decoder state.

On the main stack all three read what the pipeline's forward pass kept of the attention,
layer by layer (:mod:`attention_atlas.ingest.attention_capture`: the prediction rows, the
running rollout product, the flow's per-layer matrices for short examples) sliced to each
example's real length; an encoder-decoder's other stacks come whole from its forward pass.
Nothing is recomputed. :func:`rollout_scores` and :func:`flow_scores` also take a whole
[layers, heads, n, n] tensor (hand-made cases, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import numpy as np
import torch

from attention_atlas.ingest.attention_capture import ExampleAttention, residual_layer
from attention_atlas.ingest.methods.base import MethodResult, NoParams, Params, Shared
from attention_atlas.models.vocabulary import MAIN_STACK

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput
    from attention_atlas.ingest.settings import IngestSettings

FLOW_SCALE = 1_000_000  # scipy's max-flow wants integer capacities


@dataclass(frozen=True)
class FlowParams(Params):
    max_tokens: int  # flow only for examples up to this many tokens

    RECORDED = {"max_tokens": "flow_max_tokens"}

    @classmethod
    def from_settings(cls, settings: IngestSettings, token_budget: int) -> Self:
        return cls(max_tokens=settings.flow_max_tokens)


def stack_of(forward: ForwardOutput, stack: str = MAIN_STACK) -> tuple[torch.Tensor, ...]:
    """The forward pass's attentions of ``stack`` (layers x [B, heads, T, T])."""
    layers = forward.attentions if stack == MAIN_STACK else forward.stacks.get(stack)
    if layers is None:
        raise ValueError(f"no {stack} attention: attention methods need output_attentions=True")
    return layers


def example_attentions(
    forward: ForwardOutput, b: int, n: int, stack: str = MAIN_STACK
) -> np.ndarray:
    """Attention of example ``b`` sliced to its length: [layers, heads, n, n] float64."""
    layers = [layer[b, :, :n, :n] for layer in stack_of(forward, stack)]
    return torch.stack(layers).detach().double().cpu().numpy()


def captured(forward: ForwardOutput) -> list[ExampleAttention]:
    """The batch's main-stack attention as the forward pass kept it, per example."""
    if forward.captured is None:
        raise ValueError("attention methods need the attention captured by the forward pass")
    return forward.captured


def head_mean(rows: np.ndarray) -> np.ndarray:
    """One layer's prediction rows [H, n] -> their mean over heads [n], in float64."""
    return rows.astype(np.float64).mean(axis=0)


def attention_scores(attn: np.ndarray, pos: int) -> np.ndarray:
    """Last layer, prediction row, mean over heads: attn [L, H, n, n] -> [n]."""
    return head_mean(attn[-1, :, pos, :])


def residual_attention(attn: np.ndarray) -> np.ndarray:
    """A' = 0.5 * mean_heads(A) + 0.5 * I per layer, rows renormalised: [L, H, n, n] ->
    [L, n, n]."""
    return np.stack([residual_layer(layer) for layer in attn])


def rollout_scores(attn: np.ndarray, pos: int) -> np.ndarray:
    """Attention rollout [n]: the prediction row of A'_L ... A'_1."""
    layers = residual_attention(attn)
    joint = layers[0]
    for layer in layers[1:]:
        joint = layer @ joint
    return joint[pos]


def residual_normalized(relevance: np.ndarray) -> np.ndarray:
    """Chefer et al. 2021 eqs. 8-9: R̄ = rownorm(R - I) + I (a zero row of R - I stays 0)."""
    eye = np.eye(relevance.shape[-1])
    hat = relevance - eye
    sums = hat.sum(axis=-1, keepdims=True)
    return np.divide(hat, sums, out=np.zeros_like(hat), where=sums > 0) + eye


def encoder_decoder_rollout(
    encoder: np.ndarray, decoder: np.ndarray, cross: np.ndarray, pos: int
) -> np.ndarray:
    """Chefer et al. 2021 rules 6, 7 and 10 with Ā = mean over heads: encoder [Le, He, n, n],
    decoder and cross [Ld, Hd, n, n] (decoder positions x input tokens) -> [n], the
    prediction row of the decoder-to-input relevance R_de."""
    n = encoder.shape[-1]
    r_ee = np.eye(n)
    for layer in encoder.mean(axis=1):
        r_ee = r_ee + layer @ r_ee
    r_dd, r_de = np.eye(n), np.zeros((n, n))
    encoder_bar = residual_normalized(r_ee)
    for self_layer, cross_layer in zip(decoder.mean(axis=1), cross.mean(axis=1), strict=True):
        r_dd, r_de = r_dd + self_layer @ r_dd, r_de + self_layer @ r_de
        r_de = r_de + residual_normalized(r_dd).T @ cross_layer @ encoder_bar
    return r_de[pos]


def flow_scores(attn: np.ndarray, pos: int) -> np.ndarray:
    """Attention flow [n] (attn [L, H, n, n]): see :func:`flow_from_residual`."""
    return flow_from_residual(residual_attention(attn), pos)


def flow_from_residual(layers: np.ndarray, pos: int) -> np.ndarray:
    """Attention flow [n]: max flow from input token j (layer 0) to ``pos`` at the top layer,
    edge (layer l, token j) -> (layer l+1, token k) with capacity A'_l[k, j]; ``layers`` are
    the residual matrices A' [L, n, n]."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    n_layers, n, _ = layers.shape
    rows, cols, caps = [], [], []
    for level in range(n_layers):
        caps_l = np.rint(layers[level].T * FLOW_SCALE).astype(np.int64)  # [from j, to k]
        j, k = np.nonzero(caps_l)
        rows.append(level * n + j)
        cols.append((level + 1) * n + k)
        caps.append(caps_l[j, k])
    size = (n_layers + 1) * n
    graph = csr_matrix(
        (np.concatenate(caps), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )
    sink = n_layers * n + pos
    return np.array(
        [maximum_flow(graph, j, sink).flow_value / FLOW_SCALE for j in range(n)], dtype=np.float64
    )


def _per_example(
    forward: ForwardOutput,
    items: list[EncodedText],
    score: Callable[[np.ndarray, int], np.ndarray],
    stack: str = MAIN_STACK,
) -> list[MethodResult]:
    results: list[MethodResult] = []
    for b, item in enumerate(items):
        attn = example_attentions(forward, b, item.length, stack)
        scores = score(attn, item.prediction_position)
        results.append(MethodResult(np.asarray(scores, dtype=np.float32)))
    return results


def compute_attention(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: NoParams,
    shared: Shared | None = None,
    stack: str = MAIN_STACK,
) -> list[MethodResult]:
    """The last layer's prediction row of ``stack`` (``attention_decoder``, ... pass theirs),
    mean over heads; the main stack's from the captured rows."""
    if stack != MAIN_STACK:
        return _per_example(forward, items, attention_scores, stack)
    return [MethodResult(head_mean(a.rows[-1]).astype(np.float32)) for a in captured(forward)]


def compute_rollout(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: NoParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    """One stack: the prediction row of the product the forward pass built up layer by layer;
    an encoder-decoder: Chefer et al.'s rules over its held stacks."""
    if "cross" not in forward.stacks:
        return _captured_rollout(forward)
    results = []
    for b, item in enumerate(items):
        n, pos = item.length, item.prediction_position
        encoder, decoder, cross = (
            example_attentions(forward, b, n, s) for s in (MAIN_STACK, "decoder", "cross")
        )
        scores = encoder_decoder_rollout(encoder, decoder, cross, pos)
        results.append(MethodResult(scores.astype(np.float32)))
    return results


def _captured_rollout(forward: ForwardOutput) -> list[MethodResult]:
    results = []
    for a in captured(forward):
        if a.rollout is None:
            raise ValueError("rollout needs a capture with CaptureSpec(rollout=True)")
        results.append(MethodResult(np.asarray(a.rollout[a.position], dtype=np.float32)))
    return results


def compute_flow(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: FlowParams,
    shared: Shared | None = None,
) -> list[MethodResult | None]:
    """Flow per example, or None for examples longer than ``params.max_tokens``."""
    results: list[MethodResult | None] = []
    for b, a in enumerate(captured(forward)):
        if a.length > params.max_tokens:
            results.append(None)
            continue
        if a.residual is None:
            raise ValueError("flow needs a capture with CaptureSpec(flow_max_tokens=...)")
        scores = flow_from_residual(np.stack(a.residual), a.position)
        results.append(MethodResult(scores.astype(np.float32)))
        if shared is not None:
            shared.report((b + 1) / len(items))
    return results

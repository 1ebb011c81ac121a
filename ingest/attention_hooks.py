"""Forward hooks that feed :class:`~attention_atlas.ingest.attention_capture.AttentionCapture`
as the model runs: :func:`captured_forward` is the batch's forward pass with its attention
kept layer by layer, no layer's [B, heads, T, T] matrix outliving the layer. The attention
modules are found once per adapter by :func:`attention_modules`, from the model itself, so
every family that returns attentions works without a list of class names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch

from attention_atlas.ingest.attention_capture import (
    AttentionCapture,
    CaptureSpec,
    ExampleAttention,
    capture_from_tuple,
)

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput

PROBE_TEXT = "a b"  # the short text whose pass finds the attention modules
PROBE_PAIR = "c"  # its second text when the batch is a sentence pair (segment ids, as the batch)


def attention_modules(adapter: Adapter, pair: bool = False) -> list[tuple[torch.nn.Module, int]]:
    """The modules whose outputs are the model's attentions, as (module, index in the output
    tuple), without repeats (ALBERT runs one module for every layer); cached on the adapter.

    Found by identity: a short probe pass with ``output_attentions=True`` and a hook on every
    module; for each returned attention tensor, the first module (innermost: hooks fire after
    the module's forward) whose output tuple holds that very tensor. Empty, so that callers
    fall back to the returned tuple, when some layer's tensor is no module's output, or when
    the modules return no weights unless ``output_attentions`` is passed (DeBERTa-v2), and for
    an encoder-decoder model, whose decoder and cross-attention stacks its methods read whole.
    ``pair``: probe with a sentence pair, so that a pair run's every pass has segment ids."""
    cached = getattr(adapter, "_attention_modules", None)
    if cached is None and adapter.stacks:
        cached = []
        adapter._attention_modules = cached  # type: ignore[attr-defined]
    if cached is None:
        probe = adapter.collate([adapter.encode(PROBE_TEXT, PROBE_PAIR if pair else None)])
        cached = _find_modules(adapter, probe)
        if cached and not _weights_without_asking(adapter, probe, cached):
            cached = []
        adapter._attention_modules = cached  # type: ignore[attr-defined]
    return cached


def _find_modules(adapter: Adapter, probe: Batch) -> list[tuple[torch.nn.Module, int]]:
    fired: list[tuple[torch.nn.Module, tuple]] = []
    handles = [
        m.register_forward_hook(
            lambda m, _a, out: fired.append((m, out)) if isinstance(out, tuple) else None
        )
        for m in adapter.model.modules()
    ]
    try:
        with torch.no_grad():
            attentions = adapter.forward(probe, output_attentions=True).attentions or ()
    finally:
        for handle in handles:
            handle.remove()
    found: list[tuple[torch.nn.Module, int]] = []
    for weights in attentions:
        hit = next(((m, i) for m, out in fired for i, o in enumerate(out) if o is weights), None)
        if hit is None:
            return []
        if all(hit[0] is not m for m, _ in found):
            found.append(hit)
    return found


def _weights_without_asking(
    adapter: Adapter, probe: Batch, modules: list[tuple[torch.nn.Module, int]]
) -> bool:
    """Whether ``modules`` return their weights in a pass without ``output_attentions``."""
    seen: list[object] = []
    handles = [
        module.register_forward_hook(lambda _m, _a, out, i=index: seen.append(out[i]))
        for module, index in modules
    ]
    try:
        with torch.no_grad():
            adapter.forward(probe)
    finally:
        for handle in handles:
            handle.remove()
    return bool(seen) and all(isinstance(w, torch.Tensor) for w in seen)


@contextmanager
def _hooked(
    modules: list[tuple[torch.nn.Module, int]], capture: AttentionCapture
) -> Iterator[None]:
    def hook(_module: torch.nn.Module, _args: object, output: tuple, index: int) -> None:
        capture.add(output[index])

    handles = [
        module.register_forward_hook(lambda m, a, out, i=index: hook(m, a, out, i))
        for module, index in modules
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def captured_forward(
    adapter: Adapter, batch: Batch, items: Sequence[EncodedText], spec: CaptureSpec
) -> tuple[ForwardOutput, list[ExampleAttention]]:
    """The batch's forward pass (no gradients, last hidden states kept) and its attention
    captured layer by layer; the pass itself returns no attentions, so no layer's matrix
    outlives the layer. Falls back to capturing from the returned tuple when the attention
    modules cannot be found by :func:`attention_modules`."""
    modules = attention_modules(adapter, pair=batch.token_type_ids is not None)
    with torch.no_grad():
        if not modules:
            forward = adapter.forward(batch, output_attentions=True, output_hidden=True)
            assert forward.attentions is not None  # asked for
            return forward, capture_from_tuple(forward.attentions, items, spec)
        capture = AttentionCapture(items, adapter.num_layers, spec)
        with _hooked(modules, capture):
            forward = adapter.forward(batch, output_hidden=True)
    return forward, capture.finish()

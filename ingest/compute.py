"""One batch computed: the forward pass with attentions, every selected method
(:func:`~attention_atlas.ingest.batch.explain_batch`) and the example records, as
:func:`compute_batch`; the same function runs in the ingest process and on a Ray worker
(:mod:`attention_atlas.ingest.distributed`), so both store the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np
import torch

from attention_atlas.db.records import ExampleRecord
from attention_atlas.ingest.adapters import Adapter, EncodedText, ForwardOutput
from attention_atlas.ingest.attention_capture import CaptureSpec
from attention_atlas.ingest.attention_hooks import captured_forward
from attention_atlas.ingest.batch import ExplainPlan, explain_batch, method_needs
from attention_atlas.ingest.batch_writer import ComputedBatch
from attention_atlas.ingest.corpus import CorpusItem
from attention_atlas.ingest.loading import LoadRequest
from attention_atlas.ingest.methods.base import DEFAULT_TOKEN_BUDGET, GPU_TOKEN_BUDGET
from attention_atlas.ingest.plausibility import with_rationales
from attention_atlas.ingest.precision import precision_context, resolve_precision
from attention_atlas.ingest.settings import IngestSettings


def token_budget(adapter: Adapter) -> int:
    """Rows x width of one evaluation pass on the adapter's device."""
    return GPU_TOKEN_BUDGET if adapter.device.type == "cuda" else DEFAULT_TOKEN_BUDGET


def load_request(settings: IngestSettings) -> LoadRequest:
    names = {f.name for f in fields(LoadRequest)}
    return LoadRequest(**{n: getattr(settings, n) for n in names})


def capture_spec(settings: IngestSettings, plan: ExplainPlan, adapter: Adapter) -> CaptureSpec:
    """What the batch's forward pass keeps of the attention: the records' full tensors and
    what the plan's attention methods read (:func:`~ingest.batch.method_needs`)."""
    return replace(
        method_needs(plan, adapter),
        full_max_tokens=settings.full_attention_max_tokens,
        stored_layers=settings.attention_rows,
    )


def compute_batch(
    adapter: Adapter,
    chunk: list[CorpusItem],
    encoded: list[EncodedText],
    settings: IngestSettings,
    plan: ExplainPlan,
    on_progress: Callable[[str, float], None],
) -> ComputedBatch:
    started = time.perf_counter()
    with precision_context(adapter.device, resolve_precision(settings.precision, adapter.device)):
        batch = adapter.collate(encoded)
        forward, captured = captured_forward(
            adapter, batch, encoded, capture_spec(settings, plan, adapter)
        )
        forward = replace(forward, captured=captured)
        explanations = explain_batch(adapter, batch, encoded, forward, plan, on_progress)
    records = _records(
        chunk, encoded, forward, settings.full_attention_max_tokens, settings.attention_rows
    )
    records = with_rationales(chunk, encoded, records, explanations, plan.seed)
    return ComputedBatch(records, explanations, time.perf_counter() - started)


def _records(
    chunk: list[CorpusItem],
    encoded: list[EncodedText],
    forward: ForwardOutput,
    cap: int,
    stored: str,
) -> list[ExampleRecord]:
    """The batch's example rows; an encoder-decoder's decoder and cross-attention stacks
    (held whole by its forward pass) are stored for every layer, whatever ``stored`` says."""
    probabilities = torch.softmax(forward.logits.detach().float(), dim=-1).cpu().numpy()
    assert forward.captured is not None  # compute_batch captures them
    stacks = {stack: _by_example(layers) for stack, layers in forward.stacks.items()}
    records = []
    for row, (item, enc, attention) in enumerate(
        zip(chunk, encoded, forward.captured, strict=True)
    ):
        n = enc.length
        stack_attention = {
            stack: _rows_and_full(tensor[row, :, :, :n, :n].numpy(), enc, cap)
            for stack, tensor in stacks.items()
        }
        records.append(
            ExampleRecord(
                source_index=item.source_index,
                text=item.text,
                tokens=enc.tokens,
                offsets=enc.offsets,
                special_mask=enc.special_mask,
                word_ids=enc.word_ids,
                label=item.label,
                prediction=int(np.argmax(probabilities[row])),
                probabilities=probabilities[row].astype(np.float32),
                prediction_position=enc.prediction_position,
                truncated=enc.truncated,
                attention_rows=attention.prediction_rows(),
                attention_full=attention.full_tensor(),
                stack_attention=stack_attention,
                text_pair=item.text_pair,
                pair_start=enc.pair_start,
                stored_layers=stored,
            )
        )
    return records


def _by_example(layers: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """layers x [B, heads, T, T] -> [B, layers, heads, T, T] float32 on the CPU."""
    return torch.stack([a.detach().float() for a in layers], dim=1).cpu()


def _rows_and_full(
    full: np.ndarray, enc: EncodedText, cap: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """(prediction rows [L, H, n], full [L, H, n, n] float16 or None above the cap)."""
    rows = np.ascontiguousarray(full[:, :, enc.prediction_position, :])
    return rows, (full.astype(np.float16) if enc.length <= cap else None)

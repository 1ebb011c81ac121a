"""Mixed precision for ingest (``--precision auto|fp32|bf16|fp16``).

``auto`` is bf16 on CUDA devices that support it and fp32 elsewhere (a CPU gains nothing from
bf16 here and loses accuracy). Lower precision is torch autocast around the forward passes and
the methods; what needs fp32 stays fp32: IG's path sum accumulates the fp32 gradients of fp32
input embeddings, the explained outputs (logits, softmax) are cast to fp32 before any sum,
difference or completeness check, and stored probabilities and SHAP values are fp32. fp32 runs
no autocast at all, so its numbers are exactly those of a run without this option.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

from attention_atlas.ingest.settings import SettingsError

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class PrecisionError(SettingsError):
    """A precision the device cannot run (a user error: exit code 2)."""


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` made concrete for ``device``; fp16 on a CPU is refused (autocast has no CPU fp16
    path worth using)."""
    if precision == "auto":
        cuda = device.type == "cuda"
        return "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise PrecisionError("--precision fp16 needs a CUDA device; use bf16 or fp32 on a CPU")
    return precision


def precision_context(device: torch.device, precision: str) -> AbstractContextManager:
    """Autocast for a resolved ``precision`` on ``device`` (nothing for fp32)."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])

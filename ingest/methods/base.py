"""Shared pieces of the explanation methods: the method unit, the explained output, and a
batched evaluator for many token-id variants of the batch's examples (SHAP masks, deletion tests).

Every method is a :class:`Method`: an id of the vocabulary (``models.vocabulary``), a parameter
dataclass (:class:`Params`) built from the run settings by its ``from_settings`` and recorded on
the run by its ``provenance``, and a batched compute function
``compute(adapter, batch, items, forward, params, shared=None) -> list[MethodResult]`` that
returns one result per example, scores sliced to the example's real length.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import numpy as np
import torch

from attention_atlas.ingest.adapters import token_type_rows
from attention_atlas.ingest.head_gates import head_gates

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, ForwardOutput
    from attention_atlas.ingest.settings import IngestSettings

# rows x width of one evaluation pass. On CPU, passes past ~2k tokens got slower per token
# (MiniLM, 2 cores: IG 0.30 s/example at 2048 vs 0.57 s at 8192); a GPU wants far more.
DEFAULT_TOKEN_BUDGET = 2048
GPU_TOKEN_BUDGET = 32768


@dataclass(frozen=True)
class MethodResult:
    """Scores of one method for one example: [tokens] float32 and the method's own check."""

    scores: np.ndarray
    check: float | None = None


T = TypeVar("T")
# compute(adapter, batch, items, forward, params, shared=None): one result per example, None
# where the method skips one (flow past its length cap)
Compute = Callable[..., Sequence[MethodResult | None]]
Report = Callable[[float], None]  # share (0..1) of the current method's work on this batch done


def ignore_report(_share: float) -> None:
    return None


def example_share(report: Report, done: int, total: int, share: float) -> None:
    """Example ``done`` of a batch of ``total`` is ``share`` done: report the batch's share
    (bind the first three with ``functools.partial``)."""
    report((done + share) / total)


class Params:
    """Base of a method's frozen parameter dataclass: the one place the method reads the run
    settings (:meth:`from_settings`, plain attribute access, so a renamed setting fails) and
    says what it recorded (:meth:`provenance`, stored in ``runs.settings``).

    ``RECORDED`` maps a field to its key in ``runs.settings``; fields left out (the token
    budget) change speed, not numbers."""

    RECORDED: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_settings(cls, settings: IngestSettings, token_budget: int) -> Self:
        return cls()

    def provenance(self) -> dict[str, Any]:
        return {key: getattr(self, name) for name, key in self.RECORDED.items()}


@dataclass(frozen=True)
class NoParams(Params):
    """For methods that have no settings (attention, rollout)."""


@dataclass(frozen=True)
class OutputParams(Params):
    """For methods that only choose the explained output (gradient x input, AGrad)."""

    output: str  # prob | logit

    @classmethod
    def from_settings(cls, settings: IngestSettings, token_budget: int) -> Self:
        return cls(output=settings.explain_output)


@dataclass(frozen=True)
class Method:
    """One registered attribution method: its vocabulary id, compute function and parameters."""

    id: str
    compute: Compute
    params: type[Params]


@dataclass
class Shared:
    """Work shared by several methods of one batch (e.g. one gradient pass for agrad and
    grad_input), filled lazily by the first method that needs it; and ``report``, which the
    running method calls from its loops with the share of its work done (progress bars)."""

    values: dict[Hashable, Any] = field(default_factory=dict)
    report: Report = ignore_report

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if key not in self.values:
            self.values[key] = make()
        return self.values[key]


def targets_of(forward: ForwardOutput) -> torch.Tensor:
    """The predicted class of each example [B] (the target every method explains)."""
    return forward.logits.detach().argmax(-1)


def explained(logits: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
    """The explained output [N]: probability (``prob``) or logit (``logit``) of ``targets``."""
    if kind == "prob":
        values = torch.softmax(logits, dim=-1)
    elif kind == "logit":
        values = logits
    else:
        raise ValueError(f"explain_output must be prob or logit, not {kind!r}")
    return values.gather(-1, targets.reshape(-1, 1)).squeeze(-1)


def chunks_by_budget(widths: list[int], budget: int) -> list[list[int]]:
    """Split row indices (in the given order) into chunks whose rows x max width <= budget."""
    out: list[list[int]] = []
    current: list[int] = []
    width = 0
    for index, w in enumerate(widths):
        new_width = max(width, w)
        if current and new_width * (len(current) + 1) > budget:
            out.append(current)
            current, new_width = [], w
        current.append(index)
        width = new_width
    if current:
        out.append(current)
    return out


@torch.no_grad()
def evaluate_ids(
    adapter: Adapter,
    rows: list[np.ndarray],
    positions: list[int],
    *,
    budget: int = DEFAULT_TOKEN_BUDGET,
    report: Report = ignore_report,
    token_types: Sequence[Sequence[int] | None] | None = None,
    gates: torch.Tensor | None = None,
) -> torch.Tensor:
    """Class logits [N, classes] for N id sequences (each at its own length, no padding waste:
    rows are sorted by length and padded only to the longest row of their chunk). ``report``
    gets the share of chunks done after each one. ``token_types`` are the rows' segment ids
    (sentence pairs: each row's example's, as masks and deletions keep every position).
    ``gates`` [N, L, H] multiplies each row's head outputs (``ingest.head_gates``; head
    ablation)."""
    order = np.argsort([len(r) for r in rows], kind="stable")
    widths = [len(rows[i]) for i in order]
    logits: dict[int, torch.Tensor] = {}  # row -> [classes], filled chunk by chunk
    chunks = chunks_by_budget(widths, budget)
    for done, chunk in enumerate(chunks, start=1):
        picked = [int(order[c]) for c in chunk]
        width = max(len(rows[i]) for i in picked)
        ids = torch.full((len(picked), width), adapter.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(picked), width), dtype=torch.long)
        for r, i in enumerate(picked):
            ids[r, : len(rows[i])] = torch.from_numpy(np.asarray(rows[i], dtype=np.int64))
            mask[r, : len(rows[i])] = 1
        pos = torch.tensor([positions[i] for i in picked])
        types = token_type_rows([_type_row(token_types, i) for i in picked], width)
        with _gated(adapter, gates, picked):
            out = adapter.forward(
                None,  # everything is passed explicitly
                input_ids=ids.to(adapter.device),
                attention_mask=mask.to(adapter.device),
                prediction_positions=pos.to(adapter.device),
                token_type_ids=None if types is None else types.to(adapter.device),
            ).logits.float()
        for r, i in enumerate(picked):
            logits[i] = out[r]
        report(done / len(chunks))
    return torch.stack([logits[i] for i in range(len(rows))])


def _type_row(token_types: Sequence[Sequence[int] | None] | None, row: int) -> list[int] | None:
    found = token_types[row] if token_types is not None else None
    return None if found is None else list(found)


def _gated(
    adapter: Adapter, gates: torch.Tensor | None, picked: list[int]
) -> AbstractContextManager[None]:
    """The chunk's head gates (rows ``picked`` of ``gates``), or nothing."""
    if gates is None:
        return nullcontext()
    chunk = gates[torch.tensor(picked)].to(adapter.device)
    return head_gates(adapter.model, chunk, adapter.num_layers, adapter.num_heads)


def prediction_rows(
    forward_attentions: tuple[torch.Tensor, ...], b: int, pos: int, n: int
) -> np.ndarray:
    """Prediction-position rows of every layer and head of example ``b``: [L, H, n] numpy."""
    rows = [layer[b, :, pos, :n] for layer in forward_attentions]
    return torch.stack(rows).detach().float().cpu().numpy()

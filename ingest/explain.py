"""Contract between the ingest pipeline and the explanation methods (issue 3 fills this in).

The pipeline encodes a batch, runs one forward pass with attentions, writes examples and
attention, then calls :func:`explain_batch` and hands its results to
``db.writers.write_explanations``. Everything method-specific (Captum, shap, metrics,
faithfulness) lives behind this function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput


@dataclass(frozen=True)
class ExplainOptions:
    """Method settings recorded on the run (``Run.settings``) so readers see what was computed."""

    methods: tuple[str, ...] = ()
    explain_output: str = "prob"  # prob | logit
    ig_steps: int = 50
    ig_baseline: str = "zero"  # zero | pad
    shap_evals: int | None = None  # None: max(500, 2 * tokens + 1)
    flow_max_tokens: int = 64
    seed: int = 0

    def as_settings(self) -> dict[str, Any]:
        return {
            "methods": list(self.methods),
            "explain_output": self.explain_output,
            "ig_steps": self.ig_steps,
            "ig_baseline": self.ig_baseline,
            "shap_evals": self.shap_evals,
            "flow_max_tokens": self.flow_max_tokens,
            "seed": self.seed,
        }


@dataclass
class ExampleExplanation:
    """Everything computed for one example; arrays are token-aligned ([tokens])."""

    # method -> (scores [tokens] float32, check or None, seconds)
    attributions: dict[str, tuple[np.ndarray, float | None, float]] = field(default_factory=dict)
    # rows for the agreements table: method_a, method_b, spearman, kendall, spearman_signed,
    # kendall_signed, jaccard_5, jaccard_10pct
    agreements: list[dict[str, Any]] = field(default_factory=list)
    # reference method -> [layers, heads] Spearman grid
    head_grids: dict[str, np.ndarray] = field(default_factory=dict)
    # rows for the faithfulness table: method, comprehensiveness, sufficiency, fractions,
    # comprehensiveness_at, sufficiency_at, deletion
    faithfulness: list[dict[str, Any]] = field(default_factory=list)


def explain_batch(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    options: ExplainOptions,
) -> list[ExampleExplanation]:
    """One :class:`ExampleExplanation` per example of ``batch`` (same order as ``items``).

    ``forward`` is the batch's forward pass with attentions (reused, never recomputed)."""
    if not options.methods:
        return [ExampleExplanation() for _ in items]
    raise NotImplementedError("explanation methods arrive with issue 3")

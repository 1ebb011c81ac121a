"""Contract between the ingest pipeline and the explanation methods (issue 3 fills this in).

The pipeline encodes a batch, runs one forward pass with attentions, writes examples and
attention, then calls :func:`explain_batch` and hands its results to
``db.writers.write_explanations``. Everything method-specific (Captum, shap, metrics,
faithfulness) lives behind this function.
"""

from __future__ import annotations

import time
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
    faithfulness: bool = True  # ERASER scores and deletion curves for every method + random
    # rows x width of one batched evaluation pass (IG, SHAP, deletion); speed only, so it is
    # not recorded on the run (the pipeline raises it on a GPU)
    token_budget: int = 2048

    def as_settings(self) -> dict[str, Any]:
        return {
            "methods": list(self.methods),
            "explain_output": self.explain_output,
            "ig_steps": self.ig_steps,
            "ig_baseline": self.ig_baseline,
            "shap_evals": self.shap_evals,
            "flow_max_tokens": self.flow_max_tokens,
            "seed": self.seed,
            "faithfulness": self.faithfulness,
            "ig_method": "gausslegendre",
            "shap_explainer": "partition",
            "shap_evals_rule": "shap_evals, or max(500, 2 * tokens + 1) when unset",
            "removal": "mask token, else pad",
            "metrics_tokens": "non-special",
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
    from ingest.methods.base import Shared, targets_of
    from ingest.methods.registry import METHODS, validate_methods

    methods = validate_methods(options.methods)
    if forward.attentions is None:
        forward = _with_attentions(adapter, batch)
    shared = Shared()
    out = [ExampleExplanation() for _ in items]
    for method in methods:
        started = time.perf_counter()
        results = METHODS[method].compute(adapter, batch, items, forward, options, shared=shared)
        seconds = (time.perf_counter() - started) / len(items)
        for explanation, result in zip(out, results, strict=True):
            if result is not None:
                explanation.attributions[method] = (result.scores, result.check, seconds)
    _compare(adapter, items, forward, out)
    if options.faithfulness:
        _faithfulness(adapter, items, targets_of(forward).tolist(), options, out)
    return out


def _with_attentions(adapter: Adapter, batch: Batch) -> ForwardOutput:
    import torch

    with torch.no_grad():
        return adapter.forward(batch, output_attentions=True)


def _compare(adapter, items, forward, out) -> None:  # noqa: ANN001
    """Agreement rows for every stored pair and head grids against ig / shap."""
    from ingest.methods.base import prediction_rows
    from ingest.methods.registry import REFERENCE_METHODS
    from ingest.metrics import agreement_rows, head_grid

    for b, (item, explanation) in enumerate(zip(items, out, strict=True)):
        content = ~item.special_mask
        scores = {m: s for m, (s, _, _) in explanation.attributions.items()}
        explanation.agreements = agreement_rows(scores, content)
        references = [m for m in REFERENCE_METHODS if m in scores]
        if not references:
            continue
        rows = prediction_rows(forward.attentions, b, item.prediction_position, item.length)
        for ref in references:
            explanation.head_grids[ref] = head_grid(rows, scores[ref], content)


def _faithfulness(adapter, items, targets, options, out) -> None:  # noqa: ANN001
    from ingest.faithfulness import faithfulness_batch

    scores = [{m: s for m, (s, _, _) in e.attributions.items()} for e in out]
    rows = faithfulness_batch(
        adapter, items, scores, targets, seed=options.seed, budget=options.token_budget
    )
    for explanation, example_rows in zip(out, rows, strict=True):
        explanation.faithfulness = example_rows

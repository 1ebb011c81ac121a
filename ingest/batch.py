"""The methods of one batch: :func:`explain_batch` runs every selected method, the agreements
between them, the per-head grids and the faithfulness tests, and returns one
:class:`~db.records.ExampleExplanation` per example for ``db.writers.write_explanations``.

:class:`ExplainPlan` is built from the run settings in one place (:func:`plan_for`): each
method's parameters come from its ``Params.from_settings`` and describe themselves for the
run's provenance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from attention_atlas.db.analysis.head_roles import row_share, top_token_mask
from attention_atlas.db.analysis.metrics import agreement_rows, head_grid, pair_share
from attention_atlas.db.records import ExampleExplanation
from attention_atlas.ingest.adapters import REMOVAL_RULE
from attention_atlas.ingest.attention_capture import (
    CaptureSpec,
    capture_from_tuple,
)
from attention_atlas.ingest.attention_hooks import captured_forward
from attention_atlas.ingest.faithfulness import faithfulness_batch
from attention_atlas.ingest.head_importance import ablation_batch, head_stats_batch, role_sink_ids
from attention_atlas.ingest.methods.attention import FlowParams
from attention_atlas.ingest.methods.base import (
    DEFAULT_TOKEN_BUDGET,
    Params,
    Report,
    Shared,
    ignore_report,
    prediction_rows,
    targets_of,
)
from attention_atlas.ingest.methods.registry import method, validate_methods
from attention_atlas.ingest.top_vectors import top_vectors
from attention_atlas.models import vocabulary
from attention_atlas.models.deletion_grid import GRID, SETTINGS_KEY

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput
    from attention_atlas.ingest.settings import IngestSettings

METRICS_TOKENS = "non-special"  # agreements and head grids skip special / prompt tokens
FAITHFULNESS = "faithfulness"  # the progress stage after the methods
HEADS = "heads"  # head importance (gate gradient) and roles, after the methods
HEAD_ABLATION = "head_ablation"  # opt-in: L x H forwards per example
OnProgress = Callable[[str, float], None]  # (stage: a method id or FAITHFULNESS, share done)


@dataclass(frozen=True)
class ExplainPlan:
    """What :func:`explain_batch` computes: methods (canonical order) with their parameters."""

    methods: tuple[str, ...]
    params: Mapping[str, Params]
    seed: int  # the random faithfulness baseline's order
    faithfulness: bool = True  # ERASER scores and deletion curves for every method + random
    # rows x width of one batched evaluation pass (deletion tests); speed only, not recorded
    token_budget: int = DEFAULT_TOKEN_BUDGET
    explain_output: str = "prob"  # what head importance differentiates (as the methods)
    head_ablation: bool = False  # --head-ablation: L x H forwards per example

    @property
    def stages(self) -> tuple[str, ...]:
        """What a batch reports progress on, in order."""
        heads = (HEADS, HEAD_ABLATION) if self.head_ablation else (HEADS,)
        return self.methods + heads + ((FAITHFULNESS,) if self.faithfulness else ())

    def provenance(self) -> dict[str, Any]:
        """How the methods read the settings, for ``runs.settings`` (JSON-ready)."""
        out: dict[str, Any] = {"methods": list(self.methods), "faithfulness": self.faithfulness}
        for method_id in self.methods:
            out |= self.params[method_id].provenance()
        out |= {"removal": REMOVAL_RULE, "metrics_tokens": METRICS_TOKENS}
        return out | {SETTINGS_KEY: GRID.provenance()}  # the k of the deletion curves


def plan_for(
    settings: IngestSettings, *, token_budget: int = DEFAULT_TOKEN_BUDGET, faithfulness: bool = True
) -> ExplainPlan:
    """The plan for ``settings``: each selected method's parameters from the settings."""
    methods = validate_methods(settings.methods)
    params = {m: method(m).params.from_settings(settings, token_budget) for m in methods}
    return ExplainPlan(
        methods,
        params,
        settings.seed,
        faithfulness,
        token_budget,
        explain_output=settings.explain_output,
        head_ablation=settings.head_ablation,
    )


def for_adapter(settings: IngestSettings, adapter: Adapter) -> IngestSettings:
    """``settings`` with the methods a run on ``adapter`` computes: the default methods gain the
    stack-qualified ones on an encoder-decoder model (:func:`vocabulary.methods_for_stacks`);
    a stack method asked of a model without that stack is a user error."""
    from attention_atlas.ingest.settings import SettingsError

    methods = vocabulary.methods_for_stacks(settings.methods, adapter.stacks)
    lacking = [m for m in methods if (stack_of(m) or vocabulary.MAIN_STACK) not in _stacks(adapter)]
    if lacking:
        raise SettingsError(
            f"method(s) {', '.join(lacking)} read an encoder-decoder model's decoder or "
            f"cross-attention; {settings.checkpoint} ({adapter.kind}) has one attention stack"
        )
    return replace(settings, methods=methods)


def stack_of(method_id: str) -> str | None:
    entry = vocabulary.info(method_id)
    return entry.stack if entry else None


def _stacks(adapter: Adapter) -> tuple[str, ...]:
    return adapter.stacks or (vocabulary.MAIN_STACK,)


def explain_batch(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    plan: ExplainPlan,
    on_progress: OnProgress | None = None,
) -> list[ExampleExplanation]:
    """One :class:`ExampleExplanation` per example of ``batch`` (same order as ``items``).

    ``forward`` is the batch's forward pass with attentions and last hidden states (reused;
    recomputed only when the caller's pass lacks either).
    ``on_progress(stage, share)`` is called as each stage (:attr:`ExplainPlan.stages`) moves,
    from inside the methods' evaluation loops, so a bar can move within a long batch."""
    out = [ExampleExplanation() for _ in items]
    if not plan.methods:
        return out
    forward = _with_attentions(adapter, batch, items, forward, method_needs(plan, adapter))
    assert forward.captured is not None and forward.hidden is not None  # made sure above
    shared = Shared()
    for method_id in plan.methods:
        started = time.perf_counter()
        shared.report = _reporter(on_progress, method_id)
        compute = method(method_id).compute
        results = compute(adapter, batch, items, forward, plan.params[method_id], shared=shared)
        shared.report(1.0)  # SHAP may stop short of its budget; the stage is done either way
        seconds = (time.perf_counter() - started) / len(items)
        for explanation, result in zip(out, results, strict=True):
            if result is not None:
                explanation.attributions[method_id] = (result.scores, result.check, seconds)
    _compare(items, forward, out)
    _heads(adapter, batch, items, forward, plan, out, on_progress)
    vectors = top_vectors(forward.hidden, items, [e.scores() for e in out])
    for explanation, by_method in zip(out, vectors, strict=True):
        explanation.top_vectors = by_method
    if plan.faithfulness:
        report = _reporter(on_progress, FAITHFULNESS)
        _faithfulness(adapter, items, targets_of(forward).tolist(), plan, out, report)
    return out


def _reporter(on_progress: OnProgress | None, stage: str) -> Report:
    if on_progress is None:
        return ignore_report
    on_progress(stage, 0.0)
    return partial(on_progress, stage)


def method_needs(plan: ExplainPlan, adapter: Adapter) -> CaptureSpec:
    """What the plan's attention methods and head roles (every plan with methods) read from
    the forward pass's attention."""
    flow = plan.params.get("flow")
    return CaptureSpec(
        role_sink_ids=role_sink_ids(adapter) if plan.methods else None,
        rollout="rollout" in plan.methods,
        flow_max_tokens=flow.max_tokens if isinstance(flow, FlowParams) else None,
    )


def _with_attentions(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    spec: CaptureSpec,
) -> ForwardOutput:
    """``forward`` with its attention captured (:mod:`ingest.attention_capture`): as given,
    from the every-layer tuple the caller's pass returned, or from a new pass."""
    if forward.captured is not None and forward.hidden is not None:
        return forward
    if forward.attentions is not None and forward.hidden is not None:
        return replace(forward, captured=capture_from_tuple(forward.attentions, items, spec))
    again, captured = captured_forward(adapter, batch, items, spec)
    return replace(again, captured=captured)


def _compare(
    items: list[EncodedText],
    forward: ForwardOutput,
    out: list[ExampleExplanation],
) -> None:
    """Agreement rows for every stored pair, head grids against the reference methods for
    every attention stack (``ig@cross``: the cross-attention's grid against IG; the main
    stack's rows from the capture, an encoder-decoder's other stacks from the held pass) and,
    for sentence pairs, each method's share of mass on the second text."""
    assert forward.captured is not None  # explain_batch made sure
    for b, (item, attention, explanation) in enumerate(
        zip(items, forward.captured, out, strict=True)
    ):
        content = ~item.special_mask
        scores = explanation.scores()
        explanation.agreements = agreement_rows(scores, content)
        explanation.pair_shares = _pair_shares(item, scores)
        references = [m for m in vocabulary.reference_method_ids() if m in scores]
        if not references:
            continue
        pos, n = item.prediction_position, item.length
        stacks = {vocabulary.MAIN_STACK: attention.prediction_rows()} | {
            stack: prediction_rows(layers, b, pos, n) for stack, layers in forward.stacks.items()
        }
        for stack, rows in stacks.items():
            for ref in references:
                key = vocabulary.stack_reference(ref, stack)
                explanation.head_grids[key] = head_grid(rows, scores[ref], content)
                top = top_token_mask(scores[ref], content)
                explanation.head_top_shares[key] = row_share(rows, top)


def _heads(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    plan: ExplainPlan,
    out: list[ExampleExplanation],
    on_progress: OnProgress | None,
) -> None:
    """Head importance and roles of every example (``ingest.head_importance``)."""
    report = _reporter(on_progress, HEADS)
    assert forward.captured is not None  # explain_batch made sure
    stats = head_stats_batch(
        adapter, batch, items, forward.captured, forward.logits, plan.explain_output
    )
    report(1.0)
    if plan.head_ablation:
        report = _reporter(on_progress, HEAD_ABLATION)
        if all(s.gradient is not None for s in stats):  # else no gate: nothing to ablate
            drops = ablation_batch(
                adapter, items, forward.logits, budget=plan.token_budget, report=report
            )
            stats = [replace(s, ablation=d) for s, d in zip(stats, drops, strict=True)]
        report(1.0)
    for explanation, example_stats in zip(out, stats, strict=True):
        explanation.head_stats = example_stats


def _pair_shares(item: EncodedText, scores: dict[str, np.ndarray]) -> dict[str, float]:
    """method -> share of its mass on a sentence pair's second text ({} for one text)."""
    if item.pair_start is None:
        return {}
    content = ~item.special_mask
    shares = {m: pair_share(s, content, item.pair_start) for m, s in scores.items()}
    return {m: share for m, share in shares.items() if share is not None}


def _faithfulness(
    adapter: Adapter,
    items: list[EncodedText],
    targets: list[int],
    plan: ExplainPlan,
    out: list[ExampleExplanation],
    report: Report,
) -> None:
    scores = [e.scores() for e in out]
    rows = faithfulness_batch(
        adapter, items, scores, targets, seed=plan.seed, budget=plan.token_budget, report=report
    )
    for explanation, example_rows in zip(out, rows, strict=True):
        explanation.faithfulness = example_rows

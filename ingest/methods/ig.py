"""Integrated Gradients (Sundararajan et al. 2017) on the input embeddings, batched.

The path integral is approximated with Captum's Gauss-Legendre rule (the same alphas and step
sizes Captum uses). Rows are (example, alpha) pairs of *all* examples of the batch, sorted by
example length and packed into chunks of at most ``token_budget`` rows x width, so steps of
several examples share one forward/backward and no row is padded beyond its chunk's longest
example. Pad positions take the pad embedding at every alpha, are masked out, and are never
scored: scores are sliced to each example's length.

Baselines (``models.vocabulary.IG_BASELINES``): ``zero`` (the default) and ``pad`` replace the word
embeddings of the *content* positions only, by zeros or by the pad token's embedding; special
tokens and a zero-shot prompt's frame keep their real embeddings, so IG explains
f(x) - f(content removed, frame kept), the counterfactual SHAP and the deletion tests explain,
and scores exactly 0 on every non-content position. ``zero-all`` is the seed papers' literal
baseline: zero embeddings at every position, frame and specials included (it explains
f(x) - f(all-zero input) and spreads completeness over the frame too).

Target: the predicted class; output: ``params.output``. The check is the completeness gap
|sum(attr) - (f(x) - f(b))|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import numpy as np
import torch
from captum.attr._utils.approximation_methods import approximation_parameters

from attention_atlas.ingest.adapters import token_type_rows
from attention_atlas.ingest.methods.base import (
    MethodResult,
    Params,
    Report,
    Shared,
    chunks_by_budget,
    evaluate_ids,
    explained,
    targets_of,
)
from attention_atlas.models.vocabulary import IG_BASELINES

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput
    from attention_atlas.ingest.settings import IngestSettings


@dataclass(frozen=True)
class IGParams(Params):
    steps: int
    baseline: str  # one of BASELINES
    output: str  # prob | logit
    token_budget: int
    method: str = "gausslegendre"  # Captum's quadrature rule

    RECORDED = {
        "steps": "ig_steps",
        "baseline": "ig_baseline",
        "baseline_positions": "ig_baseline_positions",
        "method": "ig_method",
    }

    @classmethod
    def from_settings(cls, settings: IngestSettings, token_budget: int) -> Self:
        return cls(
            steps=settings.ig_steps,
            baseline=settings.ig_baseline,
            output=settings.explain_output,
            token_budget=token_budget,
        )

    @property
    def baseline_positions(self) -> str:
        """Which positions the baseline replaces (recorded: runs before this distinction
        stored ``zero`` for what is now ``zero-all``, so resuming one fails loudly)."""
        return IG_BASELINES[self.baseline]


def baseline_embeds(
    adapter: Adapter, item: EncodedText, embeds: torch.Tensor, kind: str
) -> torch.Tensor:
    """Baseline [n, D] for one example's input embeddings [n, D]."""
    if kind not in IG_BASELINES:
        known = ", ".join(IG_BASELINES)
        raise ValueError(f"ig_baseline must be one of {known}, not {kind!r}")
    if kind == "zero-all":
        return torch.zeros_like(embeds)
    if kind == "zero":
        removed = torch.zeros_like(embeds[0])
    else:
        removed = adapter.embed(torch.tensor([[adapter.pad_token_id]], device=embeds.device))[0, 0]
    content = torch.from_numpy(~item.special_mask).to(embeds.device)[:, None]
    return torch.where(content, removed.expand_as(embeds), embeds)


def _rows(items: list[EncodedText], steps: int) -> list[tuple[int, int]]:
    """(example, step) rows sorted by example length; step == steps is the baseline row."""
    order = sorted(range(len(items)), key=lambda i: items[i].length)
    return [(i, s) for i in order for s in range(steps + 1)]


def integrated_gradients(
    adapter: Adapter,
    items: list[EncodedText],
    targets: torch.Tensor,
    params: IGParams,
    input_logits: torch.Tensor | None = None,
    report: Report | None = None,
) -> list[MethodResult]:
    """Batched IG of ``items`` for class ``targets`` [B]; returns scores [n] and the gap.
    ``input_logits`` [B, classes] are the logits at the inputs when the caller already has
    them (the pipeline's forward pass); else they are evaluated here for the gap."""
    step_sizes_fn, alphas_fn = approximation_parameters(params.method)
    step_sizes, alphas = step_sizes_fn(params.steps), alphas_fn(params.steps)
    device = adapter.device
    with torch.no_grad():
        inputs = [adapter.embed(torch.tensor([it.input_ids], device=device))[0] for it in items]
        bases = [
            baseline_embeds(adapter, it, x, params.baseline)
            for it, x in zip(items, inputs, strict=True)
        ]
        pad = adapter.embed(torch.tensor([[adapter.pad_token_id]], device=device))[0, 0]
    total = [torch.zeros_like(x) for x in inputs]
    f_base = [0.0] * len(items)
    rows = _rows(items, params.steps)
    widths = [items[i].length for i, _ in rows]
    chunks = chunks_by_budget(widths, params.token_budget)
    for done, chunk in enumerate(chunks, start=1):
        picked = [rows[c] for c in chunk]
        width = max(items[i].length for i, _ in picked)
        embeds = pad.expand(len(picked), width, pad.shape[0]).clone()
        mask = torch.zeros((len(picked), width), dtype=torch.long, device=device)
        for r, (i, s) in enumerate(picked):
            alpha = 0.0 if s == params.steps else alphas[s]
            n = items[i].length
            embeds[r, :n] = bases[i] + alpha * (inputs[i] - bases[i])
            mask[r, :n] = 1
        positions = torch.tensor([items[i].prediction_position for i, _ in picked], device=device)
        types = token_type_rows([items[i].token_type_ids for i, _ in picked], width)
        row_targets = targets[[i for i, _ in picked]]
        with torch.enable_grad():
            embeds.requires_grad_(True)
            logits = adapter.forward(
                None,
                inputs_embeds=embeds,
                attention_mask=mask,
                prediction_positions=positions,
                token_type_ids=None if types is None else types.to(device),
            ).logits.float()
            values = explained(logits, row_targets, params.output)
            (grads,) = torch.autograd.grad(values.sum(), embeds)
        for r, (i, s) in enumerate(picked):
            if s == params.steps:
                f_base[i] = float(values[r].detach())
            else:
                total[i] += step_sizes[s] * grads[r, : items[i].length]
        if report is not None:
            report(done / len(chunks))
    return _finish(adapter, items, targets, params, inputs, bases, total, f_base, input_logits)


def _finish(
    adapter: Adapter,
    items: list[EncodedText],
    targets: torch.Tensor,
    params: IGParams,
    inputs: list[torch.Tensor],
    bases: list[torch.Tensor],
    total: list[torch.Tensor],
    f_base: list[float],
    logits: torch.Tensor | None,
) -> list[MethodResult]:
    if logits is None:
        logits = evaluate_ids(
            adapter,
            [np.asarray(it.input_ids) for it in items],
            [it.prediction_position for it in items],
            token_types=[it.token_type_ids for it in items],
        )
    f_input = explained(logits, targets, params.output)
    results = []
    for i in range(len(items)):
        scores = ((inputs[i] - bases[i]) * total[i]).sum(-1).double()
        gap = abs(float(scores.sum()) - (float(f_input[i]) - f_base[i]))
        results.append(MethodResult(scores.float().cpu().numpy(), gap))
    return results


def compute_ig(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: IGParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    targets = targets_of(forward)
    logits = forward.logits.detach().float()
    report = shared.report if shared is not None else None
    return integrated_gradients(adapter, items, targets, params, logits, report)


def captum_reference(
    adapter: Adapter, item: EncodedText, target: int, params: IGParams
) -> tuple[np.ndarray, float]:
    """Straightforward per-example Captum IG (the benchmark's and tests' reference): scores [n]
    and Captum's signed convergence delta."""
    from captum.attr import IntegratedGradients

    device = adapter.device
    ids = torch.tensor([item.input_ids], device=device)
    single = adapter.collate([item])
    target_t = torch.tensor([target], device=device)

    def forward_func(embeds: torch.Tensor) -> torch.Tensor:
        rows = embeds.shape[0]
        logits = adapter.forward(
            single,
            inputs_embeds=embeds,
            attention_mask=single.attention_mask.expand(rows, -1),
            prediction_positions=single.prediction_positions.expand(rows),
        ).logits.float()
        return explained(logits, target_t.expand(rows), params.output)

    with torch.no_grad():
        x = adapter.embed(ids)
        base = baseline_embeds(adapter, item, x[0], params.baseline)[None]
    ig = IntegratedGradients(forward_func)
    attr, delta = ig.attribute(
        x,
        baselines=base,
        n_steps=params.steps,
        method=params.method,
        return_convergence_delta=True,
    )
    return attr.sum(-1)[0].detach().float().cpu().numpy(), float(delta[0])

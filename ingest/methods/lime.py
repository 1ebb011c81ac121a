"""LIME (Ribeiro, Singh & Guestrin 2016) over the content tokens, with the removal SHAP and the
deletion tests use.

- **Interpretable space**: one binary feature per content token (special tokens and a zero-shot
  prompt's frame are always kept and score 0). A 0 replaces the token's id with
  ``adapter.removal_token_id`` (the mask token, else pad); the text is never retokenized.
- **Sampling** (LIME's text explainer): the first sample is the text itself; each of the other
  ``samples - 1`` draws how many tokens to remove, uniformly from 1..m (m content tokens), then
  which ones, uniformly without replacement, from ``numpy.random.default_rng(seed)`` (the run's
  ``--seed``; one generator per example, so an example's samples do not depend on its batch).
- **Kernel** (LIME's text default): d = 100 x the cosine distance between the sample and the
  all-ones vector, weight = sqrt(exp(-d^2 / 25^2)).
- **Regularisation**: weighted ridge regression with an unpenalised intercept, alpha = 1 (LIME's
  default ``Ridge(alpha=1)``; sklearn's ``Ridge`` solves the same problem), on every content
  token (no feature selection). The scores are its coefficients: signed, in the explained
  output's units per token kept.

The check is the fit's weighted R^2 on its samples (LIME's ``score``). Each distinct sample is
evaluated once, in passes packed by :func:`~ingest.methods.base.evaluate_ids`. Reference:
Captum ``Lime`` with the same interpretable space, sampler, kernel and ridge
(:func:`captum_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Self

import numpy as np
import torch

from attention_atlas.ingest.methods.base import (
    MethodResult,
    Params,
    Report,
    Shared,
    evaluate_ids,
    example_share,
    explained,
    ignore_report,
    targets_of,
)
from attention_atlas.models.vocabulary import LIME_DEFAULT_SAMPLES

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput
    from attention_atlas.ingest.settings import IngestSettings

KERNEL_WIDTH = 25.0
RIDGE_ALPHA = 1.0


@dataclass(frozen=True)
class LimeParams(Params):
    samples: int
    output: str  # prob | logit
    seed: int
    token_budget: int
    kernel: str = f"sqrt(exp(-(100 * cosine distance to the text)^2 / {KERNEL_WIDTH:g}^2))"
    regression: str = f"weighted ridge, alpha {RIDGE_ALPHA:g}, unpenalised intercept"
    sampling: str = "text first; then k ~ U{1..m} tokens removed, uniformly chosen"

    RECORDED = {
        "samples": "lime_samples",
        "kernel": "lime_kernel",
        "regression": "lime_regression",
        "sampling": "lime_sampling",
    }

    @classmethod
    def from_settings(cls, settings: IngestSettings, token_budget: int) -> Self:
        samples = settings.lime_samples
        return cls(
            samples=LIME_DEFAULT_SAMPLES if samples is None else samples,
            output=settings.explain_output,
            seed=settings.seed,
            token_budget=token_budget,
        )


def lime_samples(features: int, samples: int, seed: int) -> np.ndarray:
    """[samples, features] 0/1 rows: the text (all ones), then LIME's text sampler."""
    rng = np.random.default_rng(seed)
    rows = np.ones((samples, features), dtype=np.int8)
    for row in rows[1:]:
        removed = rng.integers(1, features + 1)
        row[rng.choice(features, size=removed, replace=False)] = 0
    return rows


def kernel_weights(rows: np.ndarray) -> np.ndarray:
    """LIME's text kernel on the cosine distance of each row to the all-ones row: [samples]."""
    kept = rows.sum(axis=1).astype(np.float64)
    cosine = np.sqrt(kept / rows.shape[1])  # <z, 1> / (|z| |1|) for a 0/1 row z
    distance = (1.0 - cosine) * 100.0
    return np.sqrt(np.exp(-(distance**2) / KERNEL_WIDTH**2))


def weighted_ridge(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, alpha: float = RIDGE_ALPHA
) -> tuple[np.ndarray, float]:
    """Coefficients [features] and weighted R^2 of ridge with an unpenalised intercept."""
    x = x.astype(np.float64)
    total = weights.sum()
    x_mean, y_mean = weights @ x / total, weights @ y / total
    xc, yc = x - x_mean, y - y_mean
    gram = (xc * weights[:, None]).T @ xc + alpha * np.eye(x.shape[1])
    coef = np.linalg.solve(gram, (xc * weights[:, None]).T @ yc)
    residual = yc - xc @ coef
    spread = weights @ yc**2
    r2 = 1.0 - (weights @ residual**2) / spread if spread > 0 else 1.0
    return coef, float(r2)


def explain_example(
    adapter: Adapter,
    item: EncodedText,
    target: int,
    params: LimeParams,
    report: Report = ignore_report,
) -> MethodResult:
    """LIME scores [n] (0 on the frame) and the fit's weighted R^2 for one example."""
    content = np.flatnonzero(~item.special_mask)
    scores = np.zeros(item.length, dtype=np.float64)
    if len(content) == 0:
        return MethodResult(scores.astype(np.float32), None)
    rows = lime_samples(len(content), params.samples, params.seed)
    y = _evaluate(adapter, item, content, rows, target, params, report)
    coef, r2 = weighted_ridge(rows, y, kernel_weights(rows))
    scores[content] = coef
    return MethodResult(scores.astype(np.float32), r2)


def _evaluate(
    adapter: Adapter,
    item: EncodedText,
    content: np.ndarray,
    rows: np.ndarray,
    target: int,
    params: LimeParams,
    report: Report,
) -> np.ndarray:
    """The explained output of every sample [samples], each distinct one evaluated once."""
    distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    template = np.asarray(item.input_ids, dtype=np.int64)
    ids = np.repeat(template[None], len(distinct), axis=0)
    ids[:, content] = np.where(distinct == 1, template[content], adapter.removal_token_id)
    logits = evaluate_ids(
        adapter,
        list(ids),
        [item.prediction_position] * len(ids),
        budget=params.token_budget,
        report=report,
    )
    targets = torch.full((len(ids),), target, device=logits.device)
    values = explained(logits, targets, params.output).double().cpu().numpy()
    return values[inverse.reshape(-1)]


def compute_lime(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: LimeParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    targets = targets_of(forward).tolist()
    report = shared.report if shared is not None else ignore_report
    shares = [partial(example_share, report, i, len(items)) for i in range(len(items))]
    return [
        explain_example(adapter, item, target, params, share)
        for item, target, share in zip(items, targets, shares, strict=True)
    ]


def captum_reference(
    adapter: Adapter, item: EncodedText, target: int, params: LimeParams
) -> np.ndarray:
    """Captum ``Lime`` over the content ids with the same samples, kernel and ridge (sklearn's
    ``Ridge`` through Captum's ``SkLearnRidge``): scores [n], 0 on the frame."""
    from captum._utils.models.linear_model import SkLearnRidge
    from captum.attr import Lime

    content = np.flatnonzero(~item.special_mask)
    template = torch.tensor([item.input_ids], device=adapter.device)
    positions = torch.tensor([item.prediction_position], device=adapter.device)
    target_t = torch.tensor([target], device=adapter.device)
    samples = iter(torch.from_numpy(lime_samples(len(content), params.samples, params.seed)))

    def forward_func(content_ids: torch.Tensor) -> torch.Tensor:
        ids = template.expand(len(content_ids), -1).clone()
        ids[:, torch.from_numpy(content)] = content_ids.long()
        logits = adapter.forward(
            None,
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            prediction_positions=positions.expand(len(ids)),
        ).logits.float()
        return explained(logits, target_t.expand(len(ids)), params.output)

    def perturb(_inputs: torch.Tensor, **_kwargs: object) -> torch.Tensor:
        return next(samples)[None].float()

    def similarity(
        _x: object, _perturbed: object, interpretable: torch.Tensor, **_: object
    ) -> float:
        return float(kernel_weights(interpretable.cpu().numpy().astype(np.int8))[0])

    lime = Lime(
        forward_func,
        interpretable_model=SkLearnRidge(alpha=RIDGE_ALPHA),
        similarity_func=similarity,
        perturb_func=perturb,
    )
    x = template[:, torch.from_numpy(content)]
    attr = lime.attribute(
        x,
        baselines=adapter.removal_token_id,
        n_samples=params.samples,
        perturbations_per_eval=min(params.samples, 64),
        feature_mask=torch.arange(len(content), device=adapter.device)[None],
    )
    scores = np.zeros(item.length)
    scores[content] = attr[0].detach().double().cpu().numpy()
    return scores

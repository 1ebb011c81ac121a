"""SHAP (Lundberg & Lee 2017) with the ``shap`` Partition explainer over the stored tokens.

The explainer sees only the example's content tokens (special and prompt-template tokens are
never masked, so they get score 0 and cost no evaluations). The masker replaces a masked
token's id with ``adapter.removal_token_id`` (the mask token, else pad) and never retokenizes, so
values align one-to-one with the stored tokens. The partition tree is shap's own text tree
(``shap.maskers._text.partition_tree``) built from the stored tokens, with subword pieces of a
word marked as continuations like shap's Text masker does. Evaluations: ``shap_evals`` or
max(500, 2 * tokens + 1); duplicate masks are evaluated once; model calls are batched through
:func:`~ingest.methods.base.evaluate_ids`. The check is |sum(phi) - (f(x) - f(all masked))|.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Self

import numpy as np
import shap
import torch
from shap.maskers._text import partition_tree

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
from attention_atlas.ingest.methods.shap_shared import explain_examples_shared
from attention_atlas.models.vocabulary import SHAP_EVALS_RULE, shap_evals_for

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput
    from attention_atlas.ingest.settings import IngestSettings


@dataclass(frozen=True)
class ShapParams(Params):
    evals: int | None  # None: the vocabulary's SHAP_EVALS_RULE
    output: str  # prob | logit
    seed: int
    token_budget: int
    batch_size: int = 64  # masks shap hands the model at once (the cache dedups them)
    explainer: str = "partition"
    evals_rule: str = f"shap_evals, or {SHAP_EVALS_RULE} when unset"

    RECORDED = {
        "evals": "shap_evals",
        "explainer": "shap_explainer",
        "evals_rule": "shap_evals_rule",
    }

    @classmethod
    def from_settings(cls, settings: IngestSettings, token_budget: int) -> Self:
        return cls(
            evals=settings.shap_evals,
            output=settings.explain_output,
            seed=settings.seed,
            token_budget=token_budget,
        )

    def evals_for(self, tokens: int) -> int:
        return shap_evals_for(tokens, self.evals)


# (id rows, positions, token_types=each row's segment ids or None) -> logits
Evaluate = Callable[..., torch.Tensor]


class TokenMasker(shap.maskers.Masker):
    """Masks content positions of one stored id sequence by the removal id."""

    def __init__(self, content_ids: np.ndarray, removal_id: int, clustering: np.ndarray) -> None:
        self.shape = (1, len(content_ids))
        self.clustering = clustering
        self.removal_id = removal_id

    def __call__(self, mask: np.ndarray, x: np.ndarray) -> tuple[np.ndarray]:
        return (np.where(mask, x, self.removal_id)[None, :],)


def token_clustering(item: EncodedText, content: np.ndarray) -> np.ndarray:
    """shap's text partition tree over the content tokens [n - 1, 4]."""
    words = item.word_ids[content]
    pieces = [t.replace("Ġ", " ").replace("▁", " ").strip() for t in np.array(item.tokens)[content]]
    marked = [
        f"##{p.removeprefix('##')}" if i > 0 and words[i] == words[i - 1] else p.removeprefix("##")
        for i, p in enumerate(pieces)
    ]
    tree = partition_tree(marked, [])
    tree[:, 2] = tree[:, 3] / tree[:, 3].max()  # as shap's Text masker: cluster size as height
    return tree


class _Model:
    """The explained output for [N, n_content] masked content ids, with a cache of masks."""

    def __init__(
        self,
        adapter: Adapter,
        item: EncodedText,
        content: np.ndarray,
        target: int,
        params: ShapParams,
        report: Report,
        evaluate: Evaluate,
    ) -> None:
        self.adapter, self.item, self.content, self.params = adapter, item, content, params
        self.target, self.report, self.evaluate = target, report, evaluate
        self.cache: dict[bytes, float] = {}

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        keys = [r.tobytes() for r in rows]
        todo = list(dict.fromkeys(k for k in keys if k not in self.cache))
        if todo:
            template = np.asarray(self.item.input_ids, dtype=np.int64)
            full = []
            for key in todo:
                ids = template.copy()
                ids[self.content] = np.frombuffer(key, dtype=rows.dtype)
                full.append(ids)
            positions = [self.item.prediction_position] * len(full)
            types = [self.item.token_type_ids] * len(full)
            logits = self.evaluate(full, positions, token_types=types)
            targets = torch.full((len(full),), self.target, device=logits.device)
            values = explained(logits, targets, self.params.output).cpu().numpy()
            self.cache.update(zip(todo, values.tolist(), strict=True))
            self.report(min(1.0, len(self.cache) / self.params.evals_for(self.item.length)))
        return np.array([self.cache[k] for k in keys])


def explain_example(
    adapter: Adapter,
    item: EncodedText,
    target: int,
    params: ShapParams,
    report: Report = ignore_report,
    evaluate: Evaluate | None = None,
) -> MethodResult:
    """Partition SHAP values [n] (0 at specials) and the additivity gap for one example;
    ``report`` gets the share of the evaluation budget spent; ``evaluate(rows, positions)``
    gives the logits of id rows (default: :func:`evaluate_ids` on their own)."""
    content = np.flatnonzero(~item.special_mask)
    scores = np.zeros(item.length, dtype=np.float64)
    evaluate = evaluate or partial(evaluate_ids, adapter, budget=params.token_budget)
    model = _Model(adapter, item, content, target, params, report, evaluate)
    x = np.asarray(item.input_ids, dtype=np.int64)[content]
    if len(content) == 0:
        return MethodResult(scores.astype(np.float32), 0.0)
    removed = np.full_like(x, adapter.removal_token_id)
    f_x, f_masked = model(np.stack([x, removed]))
    if len(content) == 1:
        scores[content] = f_x - f_masked
        return MethodResult(scores.astype(np.float32), 0.0)
    masker = TokenMasker(x, adapter.removal_token_id, token_clustering(item, content))
    explainer = shap.explainers.PartitionExplainer(model, masker)
    state = np.random.get_state()
    np.random.seed(params.seed)  # the Owen queue breaks ties with np.random
    try:
        out = explainer(
            x[None, :],
            max_evals=params.evals_for(item.length),
            batch_size=params.batch_size,
            silent=True,
        )
    finally:
        np.random.set_state(state)
    phi = np.asarray(out.values[0], dtype=np.float64)
    scores[content] = phi
    return MethodResult(scores.astype(np.float32), abs(phi.sum() - (f_x - f_masked)))


def compute_shap(
    adapter: Adapter,
    batch: Batch,
    items: list[EncodedText],
    forward: ForwardOutput,
    params: ShapParams,
    shared: Shared | None = None,
) -> list[MethodResult]:
    targets = targets_of(forward).tolist()
    report = shared.report if shared is not None else ignore_report
    if adapter.device.type == "cuda":  # one model pass serves every example's pending masks
        return explain_shared(adapter, items, targets, params, report)
    out = []
    for done, (item, target) in enumerate(zip(items, targets, strict=True)):
        share = partial(example_share, report, done, len(items))
        out.append(explain_example(adapter, item, target, params, share))
    return out


def explain_shared(
    adapter: Adapter,
    items: list[EncodedText],
    targets: list[int],
    params: ShapParams,
    report: Report = ignore_report,
) -> list[MethodResult]:
    """:func:`explain_example` for every item, the model calls of all in shared passes."""

    def one(item: EncodedText, target: int, share: Report, evaluate: Evaluate) -> MethodResult:
        return explain_example(adapter, item, target, params, share, evaluate)

    return explain_examples_shared(
        adapter, items, targets, one, budget=params.token_budget, seed=params.seed, report=report
    )


def text_masker_reference(
    adapter: Adapter, text: str, item: EncodedText, target: int, params: ShapParams
) -> np.ndarray:
    """Straightforward per-example reference: ``shap.Explainer`` with ``shap.maskers.Text``
    over the (truncated) text, retokenizing every masked string. Values [tokens of the text]."""
    tokenizer = adapter.tokenizer
    ends = item.offsets[~item.special_mask]
    kept = text[: int(ends[:, 1].max())] if len(ends) else text

    def f(texts: np.ndarray) -> np.ndarray:
        encoded = [adapter.encode(str(t)) for t in texts]
        logits = evaluate_ids(
            adapter,
            [np.asarray(e.input_ids) for e in encoded],
            [e.prediction_position for e in encoded],
            token_types=[e.token_type_ids for e in encoded],
        )
        targets = torch.full((len(encoded),), target, device=logits.device)
        return explained(logits, targets, params.output).cpu().numpy()

    explainer = shap.Explainer(f, shap.maskers.Text(tokenizer))
    out = explainer([kept], max_evals=params.evals_for(item.length), silent=True)
    return np.asarray(out.values[0])

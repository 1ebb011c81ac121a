"""Human rationales of a computed batch: each example's token mask, and every method's
plausibility against it (``db.analysis.plausibility``: pure numpy over the scores the batch
already holds, no model pass), the seeded random order included as the baseline.

The random order is the faithfulness baseline's (:func:`ingest.faithfulness.random_order`), so
one example's random baseline is the same ranking in both tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from attention_atlas.db.analysis.plausibility import plausibility, random_scores
from attention_atlas.db.records import ExampleExplanation, ExampleRecord
from attention_atlas.ingest.adapters import EncodedText
from attention_atlas.ingest.corpus import CorpusItem
from attention_atlas.ingest.faithfulness import random_order
from attention_atlas.ingest.rationales import TokenRationale, token_mask
from attention_atlas.models import vocabulary
from attention_atlas.models.vocabulary import RANDOM


def with_rationales(
    chunk: Sequence[CorpusItem],
    encoded: Sequence[EncodedText],
    records: list[ExampleRecord],
    explanations: Sequence[ExampleExplanation],
    seed: int,
) -> list[ExampleRecord]:
    """``records`` with their rationale masks; the explanations get their plausibility rows."""
    out = []
    for item, enc, record, explanation in zip(chunk, encoded, records, explanations, strict=True):
        if item.rationale is None:
            out.append(record)
            continue
        rationale = token_mask(
            item.rationale, item.text, enc.offsets, enc.special_mask, enc.truncated
        )
        explanation.plausibility = plausibility_rows(enc, rationale, explanation.scores(), seed)
        out.append(replace(record, rationale=rationale.mask, rationale_cut=rationale.cut))
    return out


def plausibility_rows(
    item: EncodedText, rationale: TokenRationale, scores: dict[str, np.ndarray], seed: int
) -> list[dict[str, Any]]:
    """One row per method with scores, and ``random``; none when no marked token is left."""
    if not rationale.marked:
        return []
    content = ~np.asarray(item.special_mask, dtype=bool)
    mask = rationale.mask[content]
    signed = vocabulary.signed_method_ids()
    rows = [{"method": m, **plausibility(mask, s[content], m in signed)} for m, s in scores.items()]
    baseline = random_scores(random_order(item, seed), item.length)[content]
    return rows + [{"method": RANDOM.id, **plausibility(mask, baseline, False)}]

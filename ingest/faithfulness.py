"""Faithfulness of each method's token ranking (ERASER, DeYoung et al. 2020; deletion curves
as in the occlusion tests of the seed papers), batched over examples and methods.

Tokens are ranked by signed score, highest first (the tokens that most support the predicted
class); special tokens are never removed. Removing a token replaces its id with
``adapter.removal_token_id`` (as SHAP's masker does). All numbers are the probability of the
originally predicted class p (whatever ``explain_output`` is):

- comprehensiveness@q = p(x) - p(x without the top ceil(q * n) tokens)
- sufficiency@q = p(x) - p(x with only the top ceil(q * n) tokens)
- their means over q in ``FRACTIONS`` (AOPC)
- deletion[k] = p(x without the top-k tokens), k on the run's deletion grid
  (``models.deletion_grid``: every k up to 20, then 4 points per doubling, until half the n
  content tokens are deleted)
- deletion_same[k] = whether the predicted class is unchanged after that removal (the accuracy
  curve of Karpekov & Miller: on an originally correct example, "still correct")
- for signed methods, deletion_bottom[k] / deletion_bottom_same[k]: the same after removing the
  k tokens with the *lowest* signed scores (those pushing most toward another class), Karpekov
  & Miller's "bottom" strategy; None for unsigned methods and ``random``

``random`` is the same for a random order drawn from a generator seeded by the run's seed and
the example's ids (the same order whatever the batch). Every distinct variant of every example
is evaluated once, in length-sorted chunks.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import torch

from attention_atlas.ingest.adapters import Adapter, EncodedText
from attention_atlas.ingest.methods.base import (
    DEFAULT_TOKEN_BUDGET,
    Report,
    evaluate_ids,
    ignore_report,
)
from attention_atlas.models import vocabulary
from attention_atlas.models.deletion_grid import GRID, DeletionGrid
from attention_atlas.models.vocabulary import RANDOM

FRACTIONS = (0.01, 0.05, 0.10, 0.20, 0.50)


def random_order(item: EncodedText, seed: int) -> np.ndarray:
    """A seeded random permutation of the content positions."""
    content = np.flatnonzero(~item.special_mask)
    key = zlib.crc32(np.asarray(item.input_ids, dtype=np.int64).tobytes())
    return np.random.default_rng([seed, key]).permutation(content)


def ranking(item: EncodedText, scores: np.ndarray) -> np.ndarray:
    """Content positions by descending signed score (ties by position)."""
    content = np.flatnonzero(~item.special_mask)
    return content[np.argsort(-scores[content], kind="stable")]


def bottom_ranking(item: EncodedText, scores: np.ndarray) -> np.ndarray:
    """Content positions by ascending signed score: the tokens pushing most toward another
    class first (ties by position)."""
    content = np.flatnonzero(~item.special_mask)
    return content[np.argsort(scores[content], kind="stable")]


def _deletions(
    item: EncodedText, order: np.ndarray, removal: int, grid: DeletionGrid
) -> list[np.ndarray]:
    """The ids without the first k positions of ``order``, k on ``grid`` for n = len(order)."""
    ids = np.asarray(item.input_ids, dtype=np.int64)
    out = []
    for k in grid.ks(len(order)).tolist():
        variant = ids.copy()
        variant[order[:k]] = removal
        out.append(variant)
    return out


def _variants(
    item: EncodedText, order: np.ndarray, removal: int, grid: DeletionGrid
) -> dict[str, list[np.ndarray]]:
    ids = np.asarray(item.input_ids, dtype=np.int64)
    n = len(order)
    ks = [max(1, math.ceil(q * n)) for q in FRACTIONS] if n else [0] * len(FRACTIONS)

    def without(top: np.ndarray) -> np.ndarray:
        out = ids.copy()
        out[top] = removal
        return out

    def only(top: np.ndarray) -> np.ndarray:
        out = ids.copy()
        out[np.setdiff1d(order, top)] = removal
        return out

    return {
        "comp": [without(order[:k]) for k in ks],
        "suff": [only(order[:k]) for k in ks],
        "deletion": _deletions(item, order, removal, grid),
    }


def faithfulness_batch(
    adapter: Adapter,
    items: list[EncodedText],
    scores: list[dict[str, np.ndarray]],
    targets: list[int],
    *,
    seed: int = 0,
    budget: int = DEFAULT_TOKEN_BUDGET,
    report: Report = ignore_report,
    grid: DeletionGrid = GRID,
) -> list[list[dict]]:
    """Per example, one faithfulness row per method of ``scores[i]`` plus ``random``, its
    curves on ``grid``."""
    # per example: its full text's row and, per method and curve, the rows of its variants
    plans: list[tuple[int, dict[str, dict[str, list[int]]]]] = []
    rows: list[tuple[int, np.ndarray]] = []  # (example, ids) to evaluate, each once
    index: dict[tuple[int, bytes], int] = {}
    signed = vocabulary.signed_method_ids()
    removal = adapter.removal_token_id
    for i, item in enumerate(items):
        orders = {m: ranking(item, s) for m, s in scores[i].items()}
        orders[RANDOM.id] = random_order(item, seed)
        full = _slot(np.asarray(item.input_ids, dtype=np.int64), i, rows, index)
        plan: dict[str, dict[str, list[int]]] = {}
        for method, order in orders.items():
            variants = _variants(item, order, removal, grid)
            if method in signed:
                bottom = bottom_ranking(item, scores[i][method])
                variants["bottom"] = _deletions(item, bottom, removal, grid)
            plan[method] = {k: [_slot(v, i, rows, index) for v in vs] for k, vs in variants.items()}
        plans.append((full, plan))
    logits = evaluate_ids(
        adapter,
        [r for _, r in rows],
        [items[i].prediction_position for i, _ in rows],
        budget=budget,
        report=report,
        token_types=[items[i].token_type_ids for i, _ in rows],
    )
    probs = torch.softmax(logits, -1)
    target = torch.tensor([targets[i] for i, _ in rows], device=probs.device)
    p = probs[torch.arange(len(rows), device=probs.device), target].cpu().numpy()
    same = (logits.argmax(-1) == target).cpu().numpy()
    return [_rows_for(full, plan, p, same) for full, plan in plans]


def _slot(
    ids: np.ndarray,
    example: int,
    rows: list[tuple[int, np.ndarray]],
    index: dict[tuple[int, bytes], int],
) -> int:
    key = (example, ids.tobytes())
    if key not in index:
        index[key] = len(rows)
        rows.append((example, ids))
    return index[key]


def _rows_for(
    full_row: int, plan: dict[str, dict[str, list[int]]], p: np.ndarray, same: np.ndarray
) -> list[dict]:
    """The faithfulness rows of one example from the evaluated probabilities ``p`` [rows] of
    the predicted class and whether it is still predicted, ``same`` [rows] bool."""
    full = float(p[full_row])
    out = []
    for method, slots in plan.items():
        comp = np.array([full - p[s] for s in slots["comp"]], dtype=np.float32)
        suff = np.array([full - p[s] for s in slots["suff"]], dtype=np.float32)
        out.append(
            {
                "method": method,
                "comprehensiveness": float(comp.mean()),
                "sufficiency": float(suff.mean()),
                "fractions": np.array(FRACTIONS, dtype=np.float32),
                "comprehensiveness_at": comp,
                "sufficiency_at": suff,
                "deletion": np.array([p[s] for s in slots["deletion"]], dtype=np.float32),
                "deletion_same": np.array([same[s] for s in slots["deletion"]], dtype=bool),
                **_bottom(slots.get("bottom"), p, same),
            }
        )
    return out


def _bottom(slots: list[int] | None, p: np.ndarray, same: np.ndarray) -> dict:
    if slots is None:
        return {"deletion_bottom": None, "deletion_bottom_same": None}
    return {
        "deletion_bottom": np.array([p[s] for s in slots], dtype=np.float32),
        "deletion_bottom_same": np.array([same[s] for s in slots], dtype=bool),
    }

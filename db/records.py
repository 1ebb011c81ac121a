"""The records ingest hands the writers: one example's row and everything computed for it.

Plain dataclasses of numpy arrays (no torch, no ORM), so ``db.writers`` can take them without
importing ``ingest`` and tests can build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ExampleRecord:
    """One example's row as the pipeline computed it (arrays token-aligned, length T)."""

    source_index: int
    text: str
    tokens: list[str]
    offsets: np.ndarray  # [T, 2] int32
    special_mask: np.ndarray  # [T] bool
    word_ids: np.ndarray  # [T] int32
    label: int | None
    prediction: int
    probabilities: np.ndarray  # [classes] float32
    prediction_position: int
    truncated: bool
    attention_rows: np.ndarray  # [layers, heads, T] float32, every layer (shares, grids)
    # [stored layers, heads, T, T] float16 or None above the length cap
    attention_full: np.ndarray | None
    # an encoder-decoder's other stacks: stack -> (rows [layers, heads, T], full or None)
    stack_attention: dict[str, tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict)
    rationale: np.ndarray | None = None  # [T] bool human rationale mask, None without one
    rationale_cut: int = 0  # marked characters truncation cut off
    text_pair: str | None = None  # a sentence pair's second text
    pair_start: int | None = None  # position of its first token
    stored_layers: str = "all"  # --attention-rows: which layers' rows the store keeps


@dataclass(frozen=True)
class HeadStats:
    """Per-head arrays of one example, each [layers, heads] (``roles`` [layers, heads, 5])."""

    gradient: np.ndarray | None  # |d explained output / d gate|, None where gates are unsupported
    ablation: np.ndarray | None  # probability drop of the predicted class, head zeroed (opt-in)
    roles: np.ndarray  # db.analysis.head_roles.ROLE_STATS of each head
    structure_share: np.ndarray  # prediction row's share on frame and punctuation tokens


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
    # reference method -> [layers, heads] share of each head's prediction row on the tokens
    # the reference ranks in its top 10%
    head_top_shares: dict[str, np.ndarray] = field(default_factory=dict)
    # causal importance and roles of every head (None when not computed)
    head_stats: HeadStats | None = None
    # rows for the faithfulness table: method, comprehensiveness, sufficiency, fractions,
    # comprehensiveness_at, sufficiency_at, deletion, deletion_same, deletion_bottom,
    # deletion_bottom_same (the last two None for unsigned methods and random)
    faithfulness: list[dict[str, Any]] = field(default_factory=list)
    # method -> mean last-layer hidden vector [hidden] float16 of its top-5 content tokens
    top_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    # rows for the plausibility table (human rationale): method, auprc, token_f1, iou_f1
    plausibility: list[dict[str, Any]] = field(default_factory=list)
    # sentence pairs: method -> share of its |scores| mass on the second text's tokens
    pair_shares: dict[str, float] = field(default_factory=dict)

    def scores(self) -> dict[str, np.ndarray]:
        """method -> scores [tokens], in the order they were computed."""
        return {m: s for m, (s, _, _) in self.attributions.items()}

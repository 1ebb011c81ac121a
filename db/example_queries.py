"""Read-side queries for one example (the example page): a ``Session`` and an id in,
dataclasses / arrays / DataFrames out; ORM objects never leave this module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from attention_atlas.models import vocabulary
from attention_atlas.models.schema import (
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
    Run,
    StackAttention,
)


@dataclass(frozen=True)
class ExampleDetail:
    id: int
    run_id: int
    text: str
    tokens: list[str]
    special_mask: np.ndarray  # [T] bool
    word_ids: np.ndarray  # [T] int
    label: int | None
    prediction: int
    probabilities: np.ndarray  # [classes]
    confidence: float
    correct: bool | None
    prediction_position: int
    label_names: list[str]
    num_layers: int
    num_heads: int
    offsets: np.ndarray | None = None  # [T, 2] character spans into text (text_pair from
    # pair_start on)
    truncated: bool = False
    # sentence pairs: the second text, the position of its first token, and the names of the
    # two texts (the run's text fields, e.g. premise, hypothesis); None / () for single texts
    text_pair: str | None = None
    pair_start: int | None = None
    segment_names: tuple[str, ...] = ()

    @property
    def is_pair(self) -> bool:
        return self.text_pair is not None and self.pair_start is not None


def example_detail(session: Session, example_id: int) -> ExampleDetail | None:
    row = session.execute(
        select(Example, Run.label_names, Run.num_layers, Run.num_heads, Run.text_field)
        .join(Run, Run.id == Example.run_id)
        .where(Example.id == example_id)
    ).first()
    if row is None:
        return None
    e, names, layers, heads, text_field = row
    return ExampleDetail(
        e.id,
        e.run_id,
        e.text,
        list(e.tokens),
        e.special_mask,
        e.word_ids,
        e.label,
        e.prediction,
        e.probabilities,
        e.confidence,
        e.correct,
        e.prediction_position,
        list(names),
        layers,
        heads,
        e.offsets,
        bool(e.truncated),
        e.text_pair,
        e.pair_start,
        segment_names(text_field) if e.text_pair is not None else (),
    )


PAIR_GAP = "\n\n"  # between a pair's two texts where they are read as one


def joined_text(
    text: str,
    text_pair: str | None,
    offsets: np.ndarray,
    special: np.ndarray,
    pair_start: int | None,
) -> tuple[str, np.ndarray]:
    """(text, offsets [T, 2] into it) with a sentence pair read as one text: its two texts
    joined by :data:`PAIR_GAP`, the second text's content tokens' offsets moved past the
    first. A single text (or offsets that do not fit) comes back as it is."""
    offsets = np.asarray(offsets)
    special = np.asarray(special, dtype=bool)
    if text_pair is None or pair_start is None or len(offsets) != len(special):
        return text, offsets
    moved = np.array(offsets, dtype=np.int64).reshape(-1, 2)
    second = ~special & (np.arange(len(special)) >= pair_start)
    moved[second] += len(text) + len(PAIR_GAP)
    return text + PAIR_GAP + text_pair, moved


def segment_names(text_field: str) -> tuple[str, ...]:
    """The names of a pair run's two texts: its text fields (``premise,hypothesis``), else
    ``first text, second text``."""
    names = tuple(part.strip() for part in (text_field or "").split(","))
    return names if len(names) == 2 and all(names) else ("first text", "second text")


def example_attributions(session: Session, example_id: int) -> dict[str, np.ndarray]:
    """method -> scores [T], in registry order."""
    rows = session.execute(
        select(Attribution.method, Attribution.scores).where(Attribution.example_id == example_id)
    ).all()
    found: dict[str, np.ndarray] = {method: scores for method, scores in rows}
    return {m: found[m] for m in vocabulary.in_order(found)}


def example_attention(
    session: Session, example_id: int, full: bool = True, stack: str = vocabulary.MAIN_STACK
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(rows [L, H, T], full [L, H, T, T] or None) of ``stack`` (an encoder-decoder run's
    ``decoder`` or ``cross``: ``stack_attention``); (None, None) when nothing is stored."""
    table: Any = Attention if stack == vocabulary.MAIN_STACK else StackAttention
    columns = (table.rows, table.full) if full else (table.rows,)
    stmt = select(*columns).where(table.example_id == example_id)
    if table is StackAttention:
        stmt = stmt.where(StackAttention.stack == stack)
    row = session.execute(stmt).first()
    if row is None:
        return None, None
    return row[0], (row[1] if full else None)


def example_head_scores(session: Session, example_id: int) -> dict[str, np.ndarray]:
    """reference method -> [L, H] Spearman grid."""
    stmt = select(HeadScore.reference, HeadScore.grid).where(HeadScore.example_id == example_id)
    return dict(session.execute(stmt).all())


def example_faithfulness(session: Session, example_id: int) -> pd.DataFrame:
    """method, comprehensiveness, sufficiency, deletion (array) for one example."""
    stmt = select(
        Faithfulness.method,
        Faithfulness.comprehensiveness,
        Faithfulness.sufficiency,
        Faithfulness.deletion,
    ).where(Faithfulness.example_id == example_id)
    return pd.DataFrame(
        session.execute(stmt).all(),
        columns=["method", "comprehensiveness", "sufficiency", "deletion"],
    )

"""Writers for the ingest side of the store, plus the few reads the CLI and pipeline need.

All bulk writes are ``insert(Model)`` with lists of dicts (executemany / insertmanyvalues), so
they run the same on SQLite and PostgreSQL. Functions take a Session and never commit: the
pipeline owns the transaction (one per batch), so a batch is stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from attention_atlas.db.records import ExampleExplanation, ExampleRecord, HeadStats
from attention_atlas.models import (
    Agreement,
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
    HeadStat,
    Plausibility,
    Rationale,
    Run,
    RunShard,
    StackAttention,
    TopVector,
    vocabulary,
)


class RunConflictError(ValueError):
    """A run of that name exists with different settings (a user error: exit code 2)."""


# -- runs ---------------------------------------------------------------------------------
def settings_diff(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Names of settings whose values differ, sorted (missing counts as different)."""
    keys = set(stored) | set(wanted)
    return sorted(k for k in keys if stored.get(k, "<unset>") != wanted.get(k, "<unset>"))


def get_or_create_run(session: Session, name: str, fields: dict[str, Any]) -> int:
    """The id of run ``name``: created from ``fields`` (Run column values) when absent;
    when present, its ``settings`` must equal ``fields['settings']`` (else RunConflictError)."""
    existing = session.scalars(select(Run).where(Run.name == name)).one_or_none()
    if existing is None:
        return session.scalars(insert(Run).returning(Run.id), [{"name": name, **fields}]).one()
    differing = settings_diff(existing.settings, fields["settings"])
    if differing:
        details = ", ".join(
            f"{k}: stored {existing.settings.get(k)!r} vs now {fields['settings'].get(k)!r}"
            for k in differing
        )
        raise RunConflictError(
            f"run {name!r} exists with different settings ({details}); "
            f"use another --run name or the same settings"
        )
    return existing.id


def update_run(session: Session, run_id: int, **values: Any) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(**values))


def add_run_progress(session: Session, run_id: int, n_done: int, seconds: float) -> None:
    """Add one batch's count and compute time (in the batch's transaction)."""
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(n_done=Run.n_done + n_done, seconds=Run.seconds + seconds)
    )


def start_shard(session: Session, run_id: int, index: int, count: int) -> None:
    """Record shard ``index`` of ``count`` of the run as running (again, when resumed)."""
    where = (RunShard.run_id == run_id, RunShard.shard_index == index)
    found = session.scalars(select(RunShard.id).where(*where, RunShard.shard_count == count))
    if found.first() is None:
        row = {"run_id": run_id, "shard_index": index, "shard_count": count, "status": "running"}
        session.execute(insert(RunShard), [row])
    else:
        session.execute(update(RunShard).where(*where).values(status="running"))


def finish_shard(session: Session, run_id: int, index: int, count: int) -> None:
    session.execute(
        update(RunShard)
        .where(RunShard.run_id == run_id, RunShard.shard_index == index)
        .where(RunShard.shard_count == count)
        .values(status="complete")
    )


def stored_source_indexes(session: Session, run_id: int) -> set[int]:
    rows = session.scalars(select(Example.source_index).where(Example.run_id == run_id))
    return set(rows)


def count_examples(session: Session, run_id: int) -> int:
    return session.scalar(select(func.count()).where(Example.run_id == run_id)) or 0


# -- examples and attention ---------------------------------------------------------------
def write_examples(session: Session, run_id: int, records: Sequence[ExampleRecord]) -> list[int]:
    """Insert examples and their attention; returns the new example ids in record order."""
    rows = [_example_row(run_id, r) for r in records]
    statement = insert(Example).returning(Example.id, sort_by_parameter_order=True)
    ids = list(session.scalars(statement, rows))
    attention = [
        attention_row(i, r.attention_rows, r.attention_full, r.special_mask, r.stored_layers)
        for i, r in zip(ids, records, strict=True)
    ]
    session.execute(insert(Attention), attention)
    stacks = [
        attention_row(i, rows, full, r.special_mask) | {"stack": stack}
        for i, r in zip(ids, records, strict=True)
        for stack, (rows, full) in r.stack_attention.items()
    ]
    if stacks:
        session.execute(insert(StackAttention), stacks)
    rationales = [
        {"example_id": i, "run_id": run_id, "mask": np.asarray(r.rationale, dtype=bool),
         "marked": int(np.sum(r.rationale)), "cut": int(r.rationale_cut)}
        for i, r in zip(ids, records, strict=True)
        if r.rationale is not None
    ]  # fmt: skip
    if rationales:
        session.execute(insert(Rationale), rationales)
    return ids


def attention_row(
    example_id: int,
    rows: np.ndarray,
    full: np.ndarray | None,
    special_mask: np.ndarray,
    stored_layers: str = vocabulary.DEFAULT_ATTENTION_ROWS,
) -> dict[str, Any]:
    """The ``attention`` row of one example: prediction-position rows [layers, heads, tokens]
    of the layers ``stored_layers`` (``--attention-rows``) keeps ([0, heads, tokens] for
    none), the optional full tensor (already cut to those layers), and per-head shares of
    every layer's rows on the first token and on the non-content tokens ([layers, heads])."""
    total = rows.sum(axis=-1)
    total = np.where(total > 0, total, 1.0)
    mask = np.asarray(special_mask, dtype=bool)
    return {
        "example_id": example_id,
        "rows": kept_layers(rows, stored_layers),
        "full": full,
        "first_share": (rows[..., 0] / total).astype(np.float32),
        "special_share": (rows[..., mask].sum(axis=-1) / total).astype(np.float32),
    }


def kept_layers(rows: np.ndarray, stored_layers: str) -> np.ndarray:
    """``rows`` [layers, ...] cut to the layers ``--attention-rows`` stores."""
    if stored_layers == vocabulary.DEFAULT_ATTENTION_ROWS:
        return rows
    layers = vocabulary.stored_layers(stored_layers, rows.shape[0])
    return rows[layers.start : layers.stop]


def _example_row(run_id: int, r: ExampleRecord) -> dict[str, Any]:
    probabilities = np.asarray(r.probabilities, dtype=np.float32)
    return {
        "run_id": run_id,
        "source_index": r.source_index,
        "text": r.text,
        "tokens": list(r.tokens),
        "offsets": r.offsets,
        "special_mask": r.special_mask,
        "word_ids": r.word_ids,
        "label": r.label,
        "prediction": r.prediction,
        "probabilities": probabilities,
        "confidence": float(probabilities[r.prediction]),
        "correct": None if r.label is None else r.label == r.prediction,
        "length": len(r.tokens),
        "prediction_position": r.prediction_position,
        "truncated": r.truncated,
        "text_pair": r.text_pair,
        "pair_start": r.pair_start,
    }


# -- explanations -------------------------------------------------------------------------
def write_explanations(
    session: Session,
    run_id: int,
    example_ids: Sequence[int],
    explanations: Sequence[ExampleExplanation],
) -> None:
    """Write attributions, agreements, head grids, faithfulness and top-5 vectors of a batch."""
    attributions, agreements, heads, faithful, vectors = [], [], [], [], []
    plausible, stats = [], []
    for example_id, ex in zip(example_ids, explanations, strict=True):
        for method, (scores, check, seconds) in ex.attributions.items():
            attributions.append(
                {
                    "example_id": example_id,
                    "method": method,
                    "scores": np.asarray(scores, dtype=np.float32),
                    "check": _float(check),
                    "seconds": _float(seconds),
                    "pair_share": _float(ex.pair_shares.get(method)),
                }
            )
        ids = {"run_id": run_id, "example_id": example_id}
        agreements += [{**ids, **_clean(row)} for row in ex.agreements]
        heads += [
            {**ids, "reference": ref, "grid": np.asarray(grid, dtype=np.float32)}
            | {"top_share": _array(ex.head_top_shares.get(ref))}
            for ref, grid in ex.head_grids.items()
        ]
        if ex.head_stats is not None:
            stats.append({**ids, **_head_stat_row(ex.head_stats)})
        faithful += [{**ids, **_clean(row)} for row in ex.faithfulness]
        vectors += [
            {**ids, "method": m, "vector": np.asarray(v, dtype=np.float16)}
            for m, v in ex.top_vectors.items()
        ]
        plausible += [{**ids, **_clean(row)} for row in ex.plausibility]
    for model, rows in (
        (Attribution, attributions),
        (Agreement, agreements),
        (HeadScore, heads),
        (Faithfulness, faithful),
        (TopVector, vectors),
        (Plausibility, plausible),
        (HeadStat, stats),
    ):
        if rows:
            session.execute(insert(model), rows)


def _array(value: np.ndarray | None) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=np.float32)


def _head_stat_row(stats: HeadStats) -> dict[str, Any]:
    return {
        "gradient": _array(stats.gradient),
        "ablation": _array(stats.ablation),
        "roles": _array(stats.roles),
        "structure_share": _array(stats.structure_share),
    }


def _float(value: Any) -> float | None:
    """Plain float, NaN -> None (PostgreSQL and SQLite agree on NULL, not on NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, np.ndarray):
            out[key] = value
        elif isinstance(value, (float, np.floating)):
            out[key] = _float(value)
        elif isinstance(value, np.integer):
            out[key] = int(value)
        else:
            out[key] = value
    return out


def next_source_index(session: Session, run_name: str) -> int:
    """One past the largest source index stored for run ``run_name`` (0 for a new run): where
    ``explain --text`` puts its next hand-typed text."""
    largest = session.scalar(
        select(func.max(Example.source_index)).join(Run).where(Run.name == run_name)
    )
    return 0 if largest is None else largest + 1


def example_id(session: Session, run_id: int, source_index: int) -> int | None:
    return session.scalar(
        select(Example.id).where(Example.run_id == run_id, Example.source_index == source_index)
    )

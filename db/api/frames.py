"""The read API's SQL reads and frame builders: a ``Session`` and a filter in, DataFrames out.

Each read nests the filter's ``SELECT id`` (``db.queries.filter_select``) in its WHERE clause,
so only the filtered rows come back and no id list is sent. Array blobs are read as raw bytes
and decoded with ``models.arrays`` in bulk (probabilities, one ``frombuffer``) or one by one
(token scores, whose lengths differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, LargeBinary, select, type_coerce
from sqlalchemy.orm import Session

from attention_atlas.db import notes, queries
from attention_atlas.models import vocabulary
from attention_atlas.models.arrays import decode_array, decode_stacked
from attention_atlas.models.schema import Agreement, Attribution, Example, Run

EXAMPLE_COLUMNS = [
    "id",
    "source_index",
    "text",
    "label",
    "prediction",
    "probabilities",
    "confidence",
    "correct",
    "length",
    "truncated",
    "text_pair",  # a sentence pair's second text (None for single texts)
]
SCORE_COLUMNS = ["example_id", "position", "token", "word_id", "score"]


def _raw(column: Any) -> ColumnElement[bytes]:
    return type_coerce(column, LargeBinary)


def _in_filter(f: queries.CorpusFilter) -> ColumnElement[bool]:
    return Example.id.in_(queries.filter_select(f).scalar_subquery())


def tagged_ids(session: Session, run_id: int, tag: str) -> np.ndarray:
    return notes.example_ids_with_tag(session, run_id, tag)


def run_tags(session: Session, run_id: int) -> dict[int, tuple[str, ...]]:
    return notes.tags_of_run(session, run_id)


def examples(session: Session, f: queries.CorpusFilter) -> pd.DataFrame:
    """:data:`EXAMPLE_COLUMNS` of the filtered examples, by id (label: nullable Int64,
    correct: nullable boolean)."""
    stmt = select(
        Example.id,
        Example.source_index,
        Example.text,
        Example.label,
        Example.prediction,
        _raw(Example.probabilities),
        Example.confidence,
        Example.correct,
        Example.length,
        Example.truncated,
        Example.text_pair,
    ).where(_in_filter(f))
    rows = session.connection().execute(stmt.order_by(Example.id)).all()
    frame = pd.DataFrame(rows, columns=EXAMPLE_COLUMNS)
    probabilities = decode_stacked([r[5] for r in rows]) if rows else np.zeros((0, 0))
    frame["probabilities"] = list(probabilities)
    frame["label"] = frame["label"].astype("Int64")
    frame["correct"] = frame["correct"].astype("boolean")
    frame["truncated"] = frame["truncated"].astype(bool)
    return frame


def scores(
    session: Session, f: queries.CorpusFilter, method: str, as_arrays: bool
) -> pd.DataFrame | dict[int, np.ndarray]:
    """``method``'s scores of the filtered examples (see ``RunReader.scores``)."""
    columns = [Attribution.example_id, _raw(Attribution.scores)]
    if not as_arrays:
        columns += [Example.tokens, _raw(Example.word_ids)]
    stmt = (
        select(*columns)
        .join(Example, Example.id == Attribution.example_id)
        .where(Attribution.method == method, _in_filter(f))
        .order_by(Attribution.example_id)
    )
    rows: Sequence[Any] = session.connection().execute(stmt).all()
    if as_arrays:
        return {int(r[0]): decode_array(r[1]) for r in rows}
    return _long_scores(rows)


def _long_scores(rows: Sequence[Any]) -> pd.DataFrame:
    arrays = [decode_array(r[1]) for r in rows]
    lengths = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    tokens = [t for r in rows for t in r[2]]
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return pd.DataFrame(
        {
            "example_id": np.repeat(ids, lengths),
            "position": np.arange(int(lengths.sum()), dtype=np.int64) - starts,
            "token": pd.Categorical(tokens),
            "word_id": _concat([decode_array(r[3]) for r in rows], np.int32),
            "score": _concat(arrays, np.float32),
        },
        columns=SCORE_COLUMNS,
    )


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def agreements(session: Session, f: queries.CorpusFilter) -> pd.DataFrame:
    """example_id, method_a, method_b and every measure, by example and pair. The run's rows
    come from one range scan of the (run, pair) index and are cut to the filter's ids in
    numpy: nesting the filter's joins in this 20-rows-per-example scan is 3x slower."""
    measures = [getattr(Agreement, m) for m in vocabulary.MEASURES]
    stmt = (
        select(Agreement.example_id, Agreement.method_a, Agreement.method_b, *measures)
        .where(Agreement.run_id == f.run_id)
        .order_by(Agreement.example_id, Agreement.method_a, Agreement.method_b)
    )
    frame = _agreement_frame(session.connection().execute(stmt).all())
    if f != queries.CorpusFilter(run_id=f.run_id):
        wanted = queries.filtered_ids(session, f)
        frame = frame[frame["example_id"].isin(wanted)].reset_index(drop=True)
    return frame


def _agreement_frame(rows: Sequence[Any]) -> pd.DataFrame:
    """The agreement rows column by column: ids as int64, method names categorical, measures
    float64 with NaN for NULL (pandas reads Row objects and strings one cell at a time, 3x
    slower on 500k rows)."""
    columns = ["example_id", "method_a", "method_b", *vocabulary.MEASURES]
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    frame = {
        "example_id": np.asarray(values[0], dtype=np.int64),
        "method_a": pd.Categorical(values[1]),
        "method_b": pd.Categorical(values[2]),
    }
    for name, column in zip(vocabulary.MEASURES, values[3:], strict=True):
        frame[name] = np.asarray(column, dtype=np.float64)
    return pd.DataFrame(frame, columns=columns)


def per_method(ids: np.ndarray, methods: list[str], **values: np.ndarray) -> pd.DataFrame:
    """Long rows (example_id, method, each of ``values`` [N, M]) where the first is not NaN."""
    n, m = len(ids), len(methods)
    frame = pd.DataFrame(
        {
            "example_id": np.repeat(ids, m),
            "method": np.tile(np.asarray(methods, dtype=object), n),
            **{name: array.reshape(n * m) for name, array in values.items()},
        }
    )
    first = next(iter(values))
    return frame[frame[first].notna()].reset_index(drop=True)


def curves(
    ids: np.ndarray,
    methods: list[str],
    columns: dict[str, np.ndarray],
    k: np.ndarray | None = None,
    content: np.ndarray | None = None,
) -> pd.DataFrame:
    """Long rows (example_id, method, k, fraction, each curve of ``columns`` [N, M, G]) where
    the ``deletion`` curve has a value: ``k`` [G] the run's deletion grid (default 0..G-1),
    ``fraction`` = k / the example's content tokens ``content`` [N]."""
    n, m, width = columns["deletion"].shape if columns["deletion"].ndim == 3 else (0, 0, 0)
    grid = np.arange(width) if k is None else np.asarray(k)[:width]
    tokens = np.repeat(np.zeros(n) if content is None else content, m * width)
    at = np.tile(grid, n * m)
    frame = pd.DataFrame(
        {
            "example_id": np.repeat(ids, m * width),
            "method": np.tile(np.repeat(np.asarray(methods, dtype=object), width), n),
            "k": at,
            "fraction": np.divide(at, tokens, out=np.full(len(at), np.nan), where=tokens > 0),
            **{name: array.reshape(n * m * width) for name, array in columns.items()},
        }
    )
    return frame[frame["deletion"].notna()].reset_index(drop=True)


def tokens(session: Session, f: queries.CorpusFilter) -> pd.DataFrame:
    """example_id, tokens (list), offsets ([T, 2] int32), word_ids, special_mask ([T]) of the
    filtered examples, by id."""
    stmt = select(
        Example.id, Example.tokens, Example.offsets, Example.word_ids, Example.special_mask
    ).where(_in_filter(f))
    rows = session.execute(stmt.order_by(Example.id)).all()
    columns = ["example_id", "tokens", "offsets", "word_ids", "special_mask"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def provenance(session: Session, run_id: int) -> dict[str, Any]:
    """What made the run: checkpoint, corpus, methods, settings and library versions."""
    run = session.get(Run, run_id)
    assert run is not None  # the caller found the run
    keys = ["id", "name", "checkpoint", "revision", "adapter", "dataset", "split", "text_field"]
    keys += ["label_field", "label_names", "methods", "settings", "versions", "num_layers"]
    keys += ["num_heads", "status", "n_source", "n_done", "n_skipped", "seconds"]
    out = {k: getattr(run, k) for k in keys}
    return out | {"created_at": str(run.created_at), "updated_at": str(run.updated_at)}

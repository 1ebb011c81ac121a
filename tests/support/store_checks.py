"""Store checks shared by the SQLite tests (test_store.py) and the PostgreSQL tests
(test_postgres.py): the same assertions run against both back ends."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, LargeBinary, insert, inspect, literal, select
from sqlalchemy.exc import IntegrityError

from attention_atlas.db.engine import session_factory
from attention_atlas.db.migrate import current_revision, head_revision, upgrade
from attention_atlas.models import Attention, Base, Example, Run, encode_array

ARRAYS = {
    "float32_3d": np.random.default_rng(0).random((2, 3, 5), dtype=np.float32),
    "float64_scalar": np.array(3.25),
    "int32_pairs": np.arange(10, dtype=np.int32).reshape(5, 2),
    "bool_mask": np.array([True, False, True]),
    "empty": np.zeros((0, 4), dtype=np.float32),
    "int64": np.array([2**11, -7], dtype=np.int64),
}


def run_row(name: str = "r") -> dict[str, Any]:
    return {
        "name": name,
        "checkpoint": "ckpt",
        "revision": None,
        "adapter": "encoder",
        "dataset": "data.csv",
        "split": None,
        "text_field": "text",
        "label_field": "label",
        "label_names": ["neg", "pos"],
        "methods": [],
        "settings": {"max_length": 8},
        "versions": {"torch": "x"},
        "num_layers": 2,
        "num_heads": 4,
    }


def example_row(run_id: int, source_index: int, tokens: int = 3) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source_index": source_index,
        "text": "a b",
        "tokens": ["a"] * tokens,
        "offsets": np.zeros((tokens, 2), dtype=np.int32),
        "special_mask": np.zeros(tokens, dtype=bool),
        "word_ids": np.arange(tokens, dtype=np.int32),
        "label": 1,
        "prediction": 1,
        "probabilities": np.array([0.25, 0.75], dtype=np.float32),
        "confidence": 0.75,
        "correct": True,
        "length": tokens,
        "prediction_position": 0,
        "truncated": False,
    }


def check_migrated_from_empty(engine: Engine) -> None:
    """Upgrade an empty database: at head, every model table exists, models == schema."""
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrated schema differ: {diff}"
    upgrade(engine)  # a second upgrade is a no-op
    assert current_revision(engine) == head_revision(engine)


def check_array_round_trip(engine: Engine) -> None:
    """Arrays written through NumpyArray columns come back with dtype, shape and values."""
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        run_id = session.scalars(insert(Run).returning(Run.id), [run_row()]).one()
        rows = [example_row(run_id, i) for i in range(len(ARRAYS))]
        ids = list(
            session.scalars(
                insert(Example).returning(Example.id, sort_by_parameter_order=True), rows
            )
        )
        session.execute(
            insert(Attention),
            [
                {
                    "example_id": i,
                    "rows": array.astype(np.float32),
                    "full": array,
                    "first_share": np.zeros((1, 1), np.float32),
                    "special_share": np.zeros((1, 1), np.float32),
                }
                for i, array in zip(ids, ARRAYS.values(), strict=True)
            ],
        )
    with sessions() as session:
        stored = session.execute(
            select(Attention.example_id, Attention.rows, Attention.full).order_by(
                Attention.example_id
            )
        ).all()
        example = session.scalars(select(Example).where(Example.id == ids[0])).one()
    for (_, rows, full), array in zip(stored, ARRAYS.values(), strict=True):
        # both attention columns cast to float16 and compress
        assert rows.dtype == np.float16 and rows.shape == array.shape
        np.testing.assert_array_equal(rows, array.astype(np.float16))
        assert full.dtype == np.float16 and full.shape == array.shape
        np.testing.assert_array_equal(full, array.astype(np.float16))
    assert example.offsets.dtype == np.int32 and example.offsets.shape == (3, 2)
    assert example.special_mask.dtype == bool
    np.testing.assert_array_equal(example.probabilities, [0.25, 0.75])


def check_float32_rows_stay_readable(engine: Engine) -> None:
    """Stores written before float16 rows hold plain float32 ``.npy`` blobs: they read back
    unchanged (the column type is the same LargeBinary; only new writes are float16)."""
    upgrade(engine)
    rows = np.random.default_rng(3).random((2, 4, 3), dtype=np.float32)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        run_id = session.scalars(insert(Run).returning(Run.id), [run_row("old")]).one()
        example_id = session.scalars(
            insert(Example).returning(Example.id), [example_row(run_id, 0)]
        ).one()
        legacy = Attention.__table__.c
        session.execute(
            insert(Attention.__table__).values(
                {
                    legacy.example_id: example_id,
                    legacy.rows: literal(encode_array(rows), LargeBinary),
                    legacy.first_share: literal(encode_array(rows[..., 0]), LargeBinary),
                    legacy.special_share: literal(encode_array(rows[..., 0]), LargeBinary),
                }
            )
        )
    with sessions() as session:
        back = session.scalars(select(Attention.rows)).one()
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, rows)


def check_constraints(engine: Engine) -> None:
    """Foreign keys are enforced and (run, source_index) is unique: what makes resume safe."""
    upgrade(engine)
    sessions = session_factory(engine)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.execute(insert(Example), [example_row(run_id=987654, source_index=0)])
    with sessions.begin() as session:
        run_id = session.scalars(insert(Run).returning(Run.id), [run_row("c")]).one()
        session.execute(insert(Example), [example_row(run_id, 0)])
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.execute(insert(Example), [example_row(run_id, 0)])


def check_write_explanations(engine: Engine) -> None:
    """attention_atlas.db.writers.write_explanations stores every part of an ExampleExplanation."""
    from attention_atlas.db import writers
    from attention_atlas.db.records import ExampleExplanation, HeadStats
    from attention_atlas.models import Agreement, Attribution, Faithfulness, HeadScore, HeadStat

    upgrade(engine)
    grid = np.arange(8, dtype=np.float32).reshape(2, 4) / 10
    explanation = ExampleExplanation(
        attributions={
            "ig": (np.array([0.1, -0.2, 0.3]), 0.01, 0.5),
            "attention": (np.array([0.2, 0.3, 0.5]), float("nan"), 0.001),
        },
        agreements=[
            {
                "method_a": "attention",
                "method_b": "ig",
                "spearman": 0.5,
                "kendall": np.float64(0.4),
                "spearman_signed": float("nan"),
                "kendall_signed": None,
                "jaccard_5": 1.0,
                "jaccard_10pct": 0.0,
            }
        ],
        head_grids={"ig": grid},
        head_top_shares={"ig": grid / 2},
        head_stats=HeadStats(
            gradient=grid, ablation=None, roles=np.ones((2, 4, 5)), structure_share=grid / 4
        ),
        faithfulness=[
            {
                "method": "ig",
                "comprehensiveness": 0.2,
                "sufficiency": 0.1,
                "fractions": np.array([0.1, 0.5]),
                "comprehensiveness_at": np.ones(2),
                "sufficiency_at": np.zeros(2),
                "deletion": np.linspace(1, 0, 4),
            }
        ],
    )
    sessions = session_factory(engine)
    with sessions.begin() as session:
        run_id = session.scalars(insert(Run).returning(Run.id), [run_row("x")]).one()
        example_id = session.scalars(
            insert(Example).returning(Example.id), [example_row(run_id, 0)]
        ).one()
        writers.write_explanations(session, run_id, [example_id], [explanation])
    with sessions() as session:
        scores = {a.method: a for a in session.scalars(select(Attribution))}
        agreement = session.scalars(select(Agreement)).one()
        head = session.scalars(select(HeadScore)).one()
        faithful = session.scalars(select(Faithfulness)).one()
        stats = session.scalars(select(HeadStat)).one()
    np.testing.assert_allclose(scores["ig"].scores, [0.1, -0.2, 0.3], rtol=1e-6)
    assert scores["ig"].scores.dtype == np.float32 and scores["ig"].check == pytest.approx(0.01)
    assert scores["attention"].check is None  # NaN is stored as NULL on both back ends
    assert (agreement.spearman, agreement.kendall) == (0.5, pytest.approx(0.4))
    assert agreement.spearman_signed is None and agreement.run_id == run_id
    np.testing.assert_array_equal(head.grid, grid)
    np.testing.assert_array_equal(head.top_share, grid / 2)
    np.testing.assert_array_equal(stats.gradient, grid)
    assert stats.ablation is None and stats.roles.shape == (2, 4, 5)
    assert (stats.example_id, stats.run_id) == (example_id, run_id)
    assert (head.reference, head.example_id) == ("ig", example_id)
    np.testing.assert_allclose(faithful.deletion, [1, 2 / 3, 1 / 3, 0], rtol=1e-6)
    assert faithful.fractions.dtype == np.float32

"""Query functions on a seeded synthetic store, checked against direct computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import select
from support.dash_fixtures import build_store

from attention_atlas.db import example_queries, queries, stacks
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.queries import CorpusFilter
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models import vocabulary
from attention_atlas.models.schema import (
    Agreement,
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    url, run_id = build_store(tmp_path_factory.mktemp("queries"))
    engine = make_engine(url, readonly=True)
    yield session_factory(engine), run_id
    engine.dispose()


@pytest.fixture(scope="module")
def frame(store) -> pd.DataFrame:
    """Examples joined with their attention-ig and attention-shap Spearman, read plainly."""
    sessions, run_id = store
    with sessions() as s:
        ex = pd.DataFrame(
            s.execute(
                select(
                    Example.id,
                    Example.label,
                    Example.prediction,
                    Example.correct,
                    Example.length,
                    Example.text,
                    Example.confidence,
                ).where(Example.run_id == run_id)
            ).all(),
            columns=["id", "label", "prediction", "correct", "length", "text", "confidence"],
        )
        ag = pd.DataFrame(
            s.execute(
                select(Agreement.example_id, Agreement.method_b, Agreement.spearman).where(
                    Agreement.method_a == "attention"
                )
            ).all(),
            columns=["id", "b", "rho"],
        )
    wide = ag.pivot(index="id", columns="b", values="rho")
    return ex.merge(wide[["ig", "shap"]].rename(columns={"ig": "x", "shap": "y"}), on="id")


def test_stored_agreement_matches_scipy_on_the_stored_scores(store) -> None:
    sessions, _ = store
    with sessions() as s:
        example = s.scalars(select(Example).limit(1)).one()
        scores = dict(
            s.execute(
                select(Attribution.method, Attribution.scores).where(
                    Attribution.example_id == example.id
                )
            ).all()
        )
        stored = s.scalars(
            select(Agreement).where(
                Agreement.example_id == example.id,
                Agreement.method_a == "attention",
                Agreement.method_b == "ig",
            )
        ).one()
    keep = ~example.special_mask
    rho = stats.spearmanr(np.abs(scores["attention"][keep]), np.abs(scores["ig"][keep]))
    assert stored.spearman == pytest.approx(rho.statistic)
    tau = stats.kendalltau(scores["attention"][keep], scores["ig"][keep]).statistic
    assert stored.kendall_signed == pytest.approx(tau)


@pytest.mark.parametrize(
    ("kwargs", "predicate"),
    [
        ({}, lambda d: d.index == d.index),
        ({"labels": (1,)}, lambda d: d.label == 1),
        ({"correct": False}, lambda d: ~d.correct),
        ({"min_length": 20, "max_length": 30}, lambda d: d.length.between(20, 30)),
        ({"text": "GOOD"}, lambda d: d.text.str.contains("good")),
        ({"band": "agree", "agree": 0.5}, lambda d: d.x >= 0.5),
        ({"band": "disagree", "disagree": 0.3}, lambda d: d.x <= 0.3),
        ({"band": "between", "agree": 0.6, "disagree": 0.3}, lambda d: (d.x > 0.3) & (d.x < 0.6)),
        ({"box": (0.2, 0.7, 0.0, 0.6)}, lambda d: d.x.between(0.2, 0.7) & d.y.between(0, 0.6)),
    ],
)
def test_filters_match_pandas(store, frame, kwargs, predicate) -> None:
    sessions, run_id = store
    f = CorpusFilter(run_id=run_id, **kwargs)
    expected = frame[predicate(frame)].sort_values("id")
    with sessions() as s:
        got = queries.filtered_ids(s, f)
        counts = queries.corpus_counts(s, f)
    assert got.tolist() == expected["id"].tolist()
    assert counts.total == len(expected)


def test_counts_split_by_thresholds(store, frame) -> None:
    sessions, run_id = store
    with sessions() as s:
        c = queries.corpus_counts(s, CorpusFilter(run_id=run_id, agree=0.6, disagree=0.3))
    assert (c.agree, c.between, c.disagree) == (
        int((frame.x >= 0.6).sum()),
        int(((frame.x > 0.3) & (frame.x < 0.6)).sum()),
        int((frame.x <= 0.3).sum()),
    )


def test_page_sorts_and_pages_in_sql(store, frame) -> None:
    sessions, run_id = store
    f = CorpusFilter(run_id=run_id)
    expected = frame.sort_values(["x", "id"], ascending=[False, True])["id"].tolist()
    with sessions() as s:
        first = queries.corpus_page(s, f, "x", True, 0, 10)
        second = queries.corpus_page(s, f, "x", True, 10, 10)
    assert first["id"].tolist() + second["id"].tolist() == expected[:20]
    assert list(first.columns) == queries.TABLE_COLUMNS
    assert first["x"].tolist() == pytest.approx(frame.set_index("id").loc[expected[:10], "x"])


def test_scatter_ignores_selection(store, frame) -> None:
    sessions, run_id = store
    with sessions() as s:
        points = queries.scatter_points(s, CorpusFilter(run_id=run_id, box=(0, 0.1, 0, 0.1)))
    assert len(points) == len(frame)


def test_head_stack_and_take(store) -> None:
    sessions, run_id = store
    with sessions() as s:
        ids, grids = stacks.stack_head_grids(s, run_id, "ig")
        direct = s.scalars(
            select(HeadScore.grid).where(HeadScore.reference == "ig").order_by(HeadScore.example_id)
        ).all()
    assert grids.shape == (len(ids), 2, 3)
    wanted = ids[::3]
    assert np.allclose(stacks.take(ids, grids, wanted).mean(0), np.stack(direct[::3]).mean(0))


def test_sink_shares_are_fractions(store) -> None:
    sessions, run_id = store
    with sessions() as s:
        ids, first, special = stacks.stack_sink_shares(s, run_id)
    assert first.shape == special.shape == (len(ids), 2, 3)
    assert np.all((first >= 0) & (first <= special + 1e-6) & (special <= 1 + 1e-6))


def test_faithfulness_table_and_deletion(store) -> None:
    sessions, run_id = store
    with sessions() as s:
        table = queries.faithfulness_table(s, CorpusFilter(run_id=run_id, labels=(0,)))
        ids, methods, curves = stacks.stack_deletion(s, run_id)
    assert set(table["method"]) == set(vocabulary.one_stack_method_ids()) | {"random"}
    assert methods[-1] == "random"
    assert curves.shape[:2] == (len(ids), len(vocabulary.one_stack_method_ids()) + 1)
    # the synthetic IG follows the hidden importance closely: it beats random on average
    row = table.set_index("method")
    assert row.loc["ig", "comprehensiveness"] > row.loc["random", "comprehensiveness"]


def test_example_detail_and_missing(store) -> None:
    sessions, run_id = store
    with sessions() as s:
        first = int(queries.filtered_ids(s, CorpusFilter(run_id=run_id))[0])
        detail = example_queries.example_detail(s, first)
        assert example_queries.example_detail(s, 10**6) is None
        assert list(example_queries.example_attributions(s, first)) == list(
            vocabulary.one_stack_method_ids()
        )
    assert len(detail.tokens) == len(detail.special_mask) == len(detail.word_ids)


def test_synthetic_store_is_deterministic(tmp_path) -> None:
    def snapshot(folder):
        url, _ = build_store(folder, n_examples=5, seed=11)
        with session_factory(make_engine(url, readonly=True))() as s:
            return s.scalars(select(Agreement.kendall).order_by(Agreement.id)).all()

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert fill_synthetic_store  # the factory is importable without a browser or torch


def test_stacks_equal_row_by_row_decoding(store) -> None:
    """The stacks read blobs in bulk (one frombuffer per shape); the values are the ORM's."""
    sessions, run_id = store
    with sessions() as s:
        ids, methods, curves = stacks.stack_deletion(s, run_id)
        faith = stacks.stack_faithfulness(s, run_id)
        rows = s.execute(
            select(
                Faithfulness.example_id,
                Faithfulness.method,
                Faithfulness.comprehensiveness,
                Faithfulness.deletion,
            )
        ).all()
        grid_ids, grids = stacks.stack_head_grids(s, run_id, "shap")
        direct = dict(
            s.execute(
                select(HeadScore.example_id, HeadScore.grid).where(HeadScore.reference == "shap")
            ).all()
        )
        sink_ids, first, _ = stacks.stack_sink_shares(s, run_id)
        shares = dict(s.execute(select(Attention.example_id, Attention.first_share)).all())
    assert len(rows) == len(ids) * len(methods)
    for example_id, method, comp, curve in rows:
        i, j = int(np.searchsorted(ids, example_id)), methods.index(method)
        np.testing.assert_array_equal(curves[i, j, : len(curve)], curve)
        assert np.isnan(curves[i, j, len(curve) :]).all()
        assert faith.comprehensiveness[i, j] == comp
    for i, example_id in enumerate(grid_ids):
        np.testing.assert_array_equal(grids[i], direct[example_id])
    for i, example_id in enumerate(sink_ids):
        np.testing.assert_array_equal(first[i], shares[example_id])

"""The dashboard's cached numpy path (``dashboard.data.service`` over ``db.stacks``) gives
exactly what the SQL queries in ``db.queries`` give: same rows, same order, same counts and
means, on a store with missing labels, correctness and agreement values. (One difference on
purpose: the cached text search folds Unicode case, as PostgreSQL's ``lower`` does; SQLite's
folds ASCII only, so the filters below search non-ASCII text without a case change.)"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import LargeBinary, literal, select, update

from attention_atlas.dashboard.data.service import AtlasData
from attention_atlas.db import queries
from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.queries import SORT_COLUMNS, CorpusFilter
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models import encode_array
from attention_atlas.models.schema import Agreement, Example, Faithfulness

_POSTGRES = pytest.mark.postgres


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=_POSTGRES)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated empty store: SQLite, and PostgreSQL when ATLAS_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('filter-cache') / 'atlas.db'}"
    return request.getfixturevalue("module_postgres_url")


@pytest.fixture(scope="module")
def atlas(store_url: str):
    engine = make_engine(store_url)
    upgrade(engine)
    run_id = fill_synthetic_store(engine, 80, 2, 3, 8, 40, 7, full_max_tokens=24)
    with engine.begin() as connection:  # holes the synthetic store does not have
        connection.execute(
            update(Example).where(Example.id % 7 == 0).values(label=None, correct=None)
        )
        connection.execute(
            update(Agreement)
            .where(Agreement.example_id % 5 == 0, Agreement.method_a == "attention")
            .values(spearman=None, kendall=None)
        )
        connection.execute(
            update(Example).where(Example.id % 9 == 0).values(text="Ünïcode GOOD plot 100%")
        )
        connection.execute(  # shorter deletion curves (short examples) and a compressed one
            update(Faithfulness)
            .where(Faithfulness.example_id % 4 == 0)
            .values(deletion=np.array([0.9, 0.5, 0.25], dtype=np.float32))
        )
        connection.execute(
            update(Faithfulness.__table__)
            .where(Faithfulness.example_id == 3, Faithfulness.method == "ig")
            .values(
                deletion=literal(
                    encode_array(np.array([0.8, 0.1], np.float32), compress=True), LargeBinary
                )
            )
        )
    engine.dispose()
    data = AtlasData(store_url)
    yield data, data.run(run_id)
    data.close()


def _filters(run_id: int) -> list[CorpusFilter]:
    rng = np.random.default_rng(5)
    out = [CorpusFilter(run_id=run_id)]
    for _ in range(40):
        out.append(
            CorpusFilter(
                run_id=run_id,
                labels=[(), (0,), (1,), (0, 1)][rng.integers(4)],
                predictions=[(), (1,)][rng.integers(2)],
                correct=[None, True, False][rng.integers(3)],
                min_length=[None, 12][rng.integers(2)],
                max_length=[None, 30][rng.integers(2)],
                text=str(rng.choice(["", "good", "GOOD", "o", "100%", "nïc", "zzz"])),
                pair=[("attention", "ig"), ("ig", "shap")][rng.integers(2)],
                measure=str(rng.choice(["spearman", "kendall", "jaccard_5"])),
                agree=float(rng.choice([0.3, 0.5])),
                disagree=float(rng.choice([0.0, 0.2])),
                band=str(rng.choice(queries.BANDS)),
                box=[None, (-0.2, 0.6, -1.0, 0.5)][rng.integers(2)],
                ids=[(), tuple(range(1, 81, 3))][rng.integers(2)],
            )
        )
    return out


def test_ids_and_counts_match_sql(atlas) -> None:
    data, run = atlas
    for f, sort, desc in itertools.product(_filters(run.id), SORT_COLUMNS, (False, True)):
        with data.session() as s:
            expected = queries.filtered_ids(s, f, sort, desc)
        assert data.ids(run, f, sort, desc).tolist() == expected.tolist(), (f, sort, desc)
    for f in _filters(run.id):
        with data.session() as s:
            assert data.counts(run, f) == queries.corpus_counts(s, f), f


def test_page_matches_sql_page(atlas) -> None:
    data, run = atlas
    for f in _filters(run.id)[:15]:
        for sort, desc, offset in (("x", True, 0), ("confidence", False, 10), ("id", True, 5)):
            with data.session() as s:
                expected = queries.corpus_page(s, f, sort, desc, offset, 10)
            got = data.page(run, f, sort, desc, offset, 10)
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_scatter_matches_sql(atlas) -> None:
    data, run = atlas
    for f in _filters(run.id)[:15]:
        with data.session() as s:
            expected = queries.scatter_points(s, f).reset_index(drop=True)
        got = data.scatter_points(run, f)
        assert got["id"].tolist() == expected["id"].tolist()
        np.testing.assert_allclose(got[["x", "y"]], expected[["x", "y"]].astype(float))
        assert got["correct"].astype(object).tolist() == expected["correct"].tolist()


def test_faithfulness_table_matches_sql(atlas) -> None:
    data, run = atlas
    for f in _filters(run.id)[:15]:
        with data.session() as s:
            expected = queries.faithfulness_table(s, f)
        got = data.faithfulness_table(run, f)
        expected = expected.set_index("method").loc[got["method"]].reset_index()
        assert got["n"].tolist() == expected["n"].tolist()
        np.testing.assert_allclose(
            got[["comprehensiveness", "sufficiency"]],
            expected[["comprehensiveness", "sufficiency"]].astype(float),
        )


def test_deletion_stack_matches_rows(atlas) -> None:
    data, run = atlas
    ids, methods, curves = data.deletion_stack(run)
    with data.session() as s:
        rows = s.execute(
            select(Faithfulness.example_id, Faithfulness.method, Faithfulness.deletion)
        ).all()
    assert len(rows) == len(ids) * len(methods) and curves.shape[-1] == 11
    for example_id, method, curve in rows:
        got = curves[int(np.searchsorted(ids, example_id)), methods.index(method)]
        np.testing.assert_array_equal(got[: len(curve)], curve)
        assert np.isnan(got[len(curve) :]).all()

"""Plausibility on the read side: the corpus filter's thresholds and the ``plaus`` sort give
the same rows in SQL (``db.queries``) and in the dashboard's cached numpy path, the per-filter
means equal SQL's AVG, and a store without rationales reads as such."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from attention_atlas.dashboard.data.service import AtlasData
from attention_atlas.dashboard.urlstate import CorpusState
from attention_atlas.db import plausibility_reads, queries
from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.queries import CorpusFilter
from attention_atlas.db.synthetic import fill_synthetic_store


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with a run without rationales (id 1) and one with (id 2): SQLite, and
    PostgreSQL when ATLAS_TEST_POSTGRES_URL is set."""
    url = f"sqlite:///{tmp_path_factory.mktemp('plausibility') / 'atlas.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("module_postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    fill_synthetic_store(engine, 12, 2, 2, 8, 20, 1, run_name="plain")
    fill_synthetic_store(engine, 60, 2, 2, 8, 30, 4, run_name="rationales", rationales=True)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def atlas(store_url: str):
    data = AtlasData(store_url)
    yield data, data.run(2), data.run(1)
    data.close()


def _filters(run_id: int) -> list[CorpusFilter]:
    out = []
    for measure, low, high, method in itertools.product(
        ("auprc", "token_f1", "iou_f1"),
        ((), (("attention", 0.4),), (("attention", 0.3), ("ig", 0.5))),
        ((), (("ig", 0.6),)),
        (None, "ig", "random"),
    ):
        out.append(
            CorpusFilter(
                run_id=run_id,
                plaus_measure=measure,
                plaus_min=low,
                plaus_max=high,
                plaus_method=method,
                correct=True if method == "ig" else None,
            )
        )
    return out


def test_thresholds_and_sort_match_sql(atlas) -> None:
    data, run, _ = atlas
    narrowed = 0
    for f in _filters(run.id):
        for desc in (False, True):
            with data.session() as s:
                expected = queries.filtered_ids(s, f, "plaus", desc)
                page = queries.corpus_page(s, f, "plaus", desc, 0, 5)
            got = data.ids(run, f, "plaus", desc)
            assert got.tolist() == expected.tolist(), (f, desc)
            assert page["id"].tolist() == got[:5].tolist()
        with data.session() as s:
            assert data.counts(run, f) == queries.corpus_counts(s, f)
        narrowed += len(got) < run.n_examples
    assert narrowed > 0


def test_thresholds_select_what_they_say(atlas) -> None:
    data, run, _ = atlas
    f = CorpusState.parse("pmin=attention:0.5&pmax=ig:0.4&pmethod=ig").to_filter(run.id)
    chosen = data.ids(run, f, "id", False)
    stack = data.plausibility(run)
    rows = np.isin(stack.ids, chosen)
    assert 0 < rows.sum() < len(stack.ids)
    assert (stack.of("attention", "auprc")[rows] >= 0.5).all()
    assert (stack.of("ig", "auprc")[rows] <= 0.4).all()
    with data.session() as s:
        table = queries.corpus_page(s, f, "plaus", True, 0, 50)
    assert table["plaus"].tolist() == sorted(table["plaus"], reverse=True)


def test_summary_means_equal_sql_avg(atlas) -> None:
    data, run, _ = atlas
    for f in _filters(run.id)[:8]:
        summary = data.plausibility_summary(run, f).set_index("method")
        with data.session() as s:
            expected = plausibility_reads.plausibility_table(s, f).set_index("method")
        assert sorted(summary.index) == sorted(expected.index)
        assert summary.index[-1] == "random"
        for method, row in expected.iterrows():
            assert summary.loc[method, "n"] == row["n"]
            for measure in ("auprc", "token_f1", "iou_f1"):
                assert summary.loc[method, measure] == pytest.approx(row[measure])
        assert (summary["auprc_se"] >= 0).all()


def test_example_reads(atlas) -> None:
    data, run, plain = atlas
    ids = data.corpus(run).ids
    with_rationale = [i for i in ids if data.rationale(int(i)) is not None]
    assert 0 < len(with_rationale) < len(ids)  # every fifth example has none
    example = int(with_rationale[0])
    rationale = data.rationale(example)
    assert rationale.marked == int(rationale.mask.sum()) > 0
    rows = data.example_plausibility(example)
    assert rows["method"].iloc[-1] == "random" and set(rows.columns) >= {"auprc", "token_f1"}
    assert data.has_plausibility(run) and not data.has_plausibility(plain)
    assert data.example_plausibility(int(data.corpus(plain).ids[0])).empty
    assert data.plausibility_summary(plain, CorpusFilter(run_id=plain.id)).empty


def test_read_api_exposes_plausibility(atlas, store_url: str) -> None:
    import attention_atlas

    _, run, plain = atlas
    store = attention_atlas.open(store_url)
    reader = store.run(run.id)
    frame = reader.plausibility("?pmin=attention:0.5&pmeasure=token_f1")
    assert set(frame.columns) == {"example_id", "method", "auprc", "token_f1", "iou_f1"}
    attention = frame[frame["method"] == "attention"]
    assert len(attention) and (attention["token_f1"] >= 0.5).all()
    assert "random" in set(frame["method"])
    rationales = reader.rationales(correct=True)
    assert len(rationales) and (rationales["marked"] == rationales["mask"].map(sum)).all()
    assert store.run(plain.id).plausibility().empty
    assert store.run(plain.id).rationales().empty

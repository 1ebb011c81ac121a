"""The read API (``attention_atlas.open``) gives the numbers the dashboard shows for the same
filter: corpus counts, an agreement column, the faithfulness table and a head grid, compared
against the dashboard's data service (``AtlasData``) on a synthetic store, on SQLite and on
PostgreSQL; a filter copied from a dashboard link selects the same examples; what a user gets
wrong (a run, a filter key or value, a store) is one ``StoreError`` line."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

import attention_atlas
from attention_atlas.dashboard import urlstate
from attention_atlas.dashboard.data.service import AtlasData
from attention_atlas.db import filter_grammar
from attention_atlas.db.api import StoreError
from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.notes import NotesWriter
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models.schema import Example

LINKS = [
    "",
    "?pred=0&correct=no",
    "?label=1&measure=kendall&band=disagree&disagree=0.1",
    "/heads?ref=shap&stat=rho&minlen=12&maxlen=30&pair=attention,shap&page=3&sort=x&desc=1",
    "http://atlas.example/?q=good&agree=0.3&band=agree",
    "/example/3?layer=1&head=2&box=-0.5,0.5,-1,1&ypair=ig,shap",
    "?tag=negation",
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('read-api') / 'atlas.db'}"
    return request.getfixturevalue("module_postgres_url")


@pytest.fixture(scope="module")
def stores(store_url: str):
    """(read API run, dashboard data service, its RunInfo) on one synthetic run with missing
    labels and a tag on a few examples."""
    engine = make_engine(store_url)
    upgrade(engine)
    run_id = fill_synthetic_store(engine, 70, 2, 3, 8, 40, 7, run_name="demo", full_max_tokens=24)
    with engine.begin() as connection:
        connection.execute(update(Example).where(Example.id % 7 == 0).values(label=None))
    engine.dispose()
    writer = NotesWriter(store_url)
    for example_id in (2, 5, 11):
        writer.add_note(example_id, "ana", "a negation", "negation")
    writer.dispose()
    store = attention_atlas.open(store_url)
    data = AtlasData(store_url)
    yield store.run("demo"), data, data.run(run_id)
    store.close()
    data.close()


def _dashboard_filter(run_info, link: str):
    state = urlstate.HeadsState.parse(filter_grammar.query_pairs(link))
    return state.corpus.to_filter(run_info.id)


@pytest.mark.parametrize("link", LINKS)
def test_a_copied_link_selects_what_the_dashboard_shows(stores, link: str) -> None:
    run, data, info = stores
    f = _dashboard_filter(info, link)
    wanted = np.sort(data.ids(info, f, "id", False))
    assert run.ids(link).tolist() == wanted.tolist()
    assert run.examples(link)["id"].tolist() == wanted.tolist()
    shown = data.counts(info, f)
    assert run.counts(link) == {
        "total": shown.total,
        "agree": shown.agree,
        "between": shown.between,
        "disagree": shown.disagree,
    }


@pytest.mark.parametrize("link", LINKS[:4])
def test_agreement_column_and_faithfulness_table_match_the_dashboard(stores, link: str) -> None:
    run, data, info = stores
    f = _dashboard_filter(info, link)
    wanted = np.sort(data.ids(info, f, "id", False))
    table = run.agreements(link)
    a, b = f.pair
    column = table[(table.method_a == a) & (table.method_b == b)].set_index("example_id")
    x = data.agreement(info, f.pair, f.measure)
    expected = pd.Series(x, index=data.corpus(info).ids).loc[wanted]
    np.testing.assert_array_equal(column[f.measure].reindex(wanted).to_numpy(), expected.to_numpy())
    means = run.faithfulness(link).groupby("method")[["comprehensiveness", "sufficiency"]].mean()
    shown = data.faithfulness_table(info, f).set_index("method")
    pd.testing.assert_frame_equal(
        means.loc[shown.index], shown[["comprehensiveness", "sufficiency"]], check_names=False
    )


@pytest.mark.parametrize(("link", "reference"), [("", "ig"), ("?correct=no", "shap")])
def test_head_grid_is_the_heads_page_grid(stores, link: str, reference: str) -> None:
    run, data, info = stores
    summary = data.heads_summary(info, _dashboard_filter(info, link), reference, "rho")
    grid = run.head_grid(reference, link)
    assert grid.shape == (2, 3) and grid.attrs["n"] == summary.n
    np.testing.assert_allclose(grid.to_numpy(), summary.mean, rtol=1e-6)
    np.testing.assert_allclose(run.head_grid(reference, link, stat="std"), summary.std, rtol=1e-6)


def test_examples_scores_and_attention_are_the_stored_rows(stores) -> None:
    run, data, info = stores
    frame = run.examples(correct=False, label=[0, 1])
    assert len(frame) and not frame["correct"].any() and frame["label"].isin([0, 1]).all()
    first = data.example(int(frame["id"].iloc[0]))
    np.testing.assert_array_equal(frame["probabilities"].iloc[0], first.probabilities)
    assert frame["label_name"].iloc[0] == info.label_names[first.label]
    tagged = run.examples(tag="negation")
    assert tagged["id"].tolist() == [2, 5, 11] and tagged["tags"].tolist() == [("negation",)] * 3
    long = run.scores("ig", ids=[first.id, 4])
    arrays = run.scores("ig", ids=[first.id, 4], as_arrays=True)
    assert sorted(arrays) == sorted({first.id, 4})
    for example_id, scores in arrays.items():
        np.testing.assert_array_equal(scores, data.attributions(example_id)["ig"])
        rows = long[long.example_id == example_id]
        np.testing.assert_array_equal(rows["score"].to_numpy(), scores)
        assert rows["token"].tolist() == data.example(example_id).tokens
    rows = run.attention(first.id)
    np.testing.assert_array_equal(rows.rows, data.attention(first.id)[0])
    assert rows.rows.shape == (len(rows.layers), len(rows.heads), len(rows.tokens))


def test_curves_hold_every_stored_deletion_curve(stores) -> None:
    run, data, info = stores
    curves = run.curves("?pred=1")
    ids, methods, stack = data.deletion_stack(info)
    one = curves[(curves.example_id == curves.example_id.iloc[0]) & (curves.method == methods[0])]
    row = np.searchsorted(ids, one.example_id.iloc[0])
    expected = stack[row, 0]
    np.testing.assert_array_equal(one["deletion"].to_numpy(), expected[~np.isnan(expected)])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.run("nope"), "no run 'nope' in .* \\(its runs: 'demo'\\)"),
        (lambda s: s.run(999), "no run 999"),
        (lambda s: s.run("demo").examples("?lable=1"), "unknown filter key 'lable'"),
        (lambda s: s.run("demo").examples(correct="maybe"), "bad value 'maybe' for .*'correct'"),
        (lambda s: s.run("demo").examples("?pair=attention,nosuch"), "bad value .* 'pair'"),
        (lambda s: s.run("demo").examples("?run=99"), "the filter is for run 99"),
        (lambda s: s.run("demo").scores("nosuch"), "has no 'nosuch' scores"),
        (lambda s: s.run("demo").attention(10**6), "has no example 1000000"),
    ],
)
def test_user_errors_are_one_line(stores, store_url: str, call, message: str) -> None:
    with attention_atlas.open(store_url) as store, pytest.raises(StoreError, match=message) as err:
        call(store)
    assert "\n" not in str(err.value) and err.value.__cause__ is None


def test_a_missing_or_foreign_store_is_one_line(tmp_path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        attention_atlas.open(str(tmp_path / "missing.db"))
    (tmp_path / "other.db").write_bytes(b"")
    with pytest.raises(StoreError) as err:
        attention_atlas.open(str(tmp_path / "other.db"))
    assert "\n" not in str(err.value)


def test_every_key_of_a_dashboard_link_is_a_filter_or_a_view_key() -> None:
    states = (urlstate.CorpusState, urlstate.ExampleState, urlstate.HeadsState)
    states += (urlstate.FaithfulnessState, urlstate.CompareState, urlstate.CompareExampleState)
    keys = {f.name for s in states for f in fields(s)} - {"corpus"}
    assert keys <= set(filter_grammar.FILTER_KEYS) | filter_grammar.VIEW_KEYS
    view_only = {"sort", "desc", "page", "color"}
    assert set(filter_grammar.FILTER_KEYS) == set(urlstate.FILTER_KEYS) - view_only

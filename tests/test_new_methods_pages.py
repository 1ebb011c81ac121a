"""The methods added for issue 22 (saliency, grad rollout, LIME) on every page and in the URL
codec, over a synthetic store with every method: the head grid's reference is any stored method,
chosen in the URL; the faithfulness table, accuracy curves (bottom-k for the signed LIME), the
example page's tracks and the compare page list them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import (
    CompareState,
    ExampleState,
    FaithfulnessState,
    HeadsState,
)
from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models import vocabulary
from attention_atlas.models.schema import Example

NEW = ("saliency", "grad_rollout", "lime")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('new') / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    first = fill_synthetic_store(engine, 24, 2, 3, 8, 30, 7, full_max_tokens=24)
    second = fill_synthetic_store(engine, 24, 2, 3, 8, 30, 8, full_max_tokens=24)
    with engine.begin() as connection:  # the same corpus rows: the compare page pairs them
        offset = select(func.min(Example.source_index)).where(Example.run_id == second)
        connection.execute(
            update(Example)
            .where(Example.run_id == second)
            .values(source_index=Example.source_index - offset.scalar_subquery())
        )
    engine.dispose()
    app = create_app(url)
    with app.server.test_request_context("/"):
        yield app, first, second


def test_the_url_codec_takes_any_method_as_the_head_reference() -> None:
    assert vocabulary.reference_method_ids() == vocabulary.one_stack_method_ids()
    for method in vocabulary.reference_method_ids():
        assert HeadsState.parse(f"ref={method}").ref == method
        assert ExampleState.parse(f"ref={method}").ref == method
        assert CompareState.parse(f"ref={method}").ref == method
    assert HeadsState.parse("").ref == "ig" == vocabulary.default_reference()
    assert HeadsState.parse("ref=lime").to_search() == "?ref=lime"
    assert HeadsState.parse("ref=nonsense").ref == "ig"


@pytest.mark.parametrize("ref", NEW)
def test_heads_page_grid_against_a_new_method(app, ref: str) -> None:
    from attention_atlas.dashboard.pages import heads

    text = str(heads.layout(ref=ref))
    for method in NEW:
        assert f"'value': '{method}'" in text
    grid, _trend, _table = heads.heads_view(HeadsState.parse(f"ref={ref}&stat=rho"))
    assert grid["data"][0]["z"] is not None
    assert f"with {ref}" in grid["layout"]["title"]["text"]


def test_heads_page_says_when_the_run_has_no_grids_for_the_reference(app, monkeypatch) -> None:
    from attention_atlas.dashboard.data.service import service
    from attention_atlas.dashboard.pages import heads

    data = service()
    stored = data.head_stack
    monkeypatch.setattr(
        type(data),
        "head_stack",
        lambda self, run, ref: (
            (stored(run, ref)[0][:0], None) if ref == "lime" else stored(run, ref)
        ),
    )
    grid, _, _ = heads.heads_view(HeadsState.parse("ref=lime"))
    assert "no head grids against LIME" in grid["layout"]["annotations"][0]["text"]


def test_faithfulness_and_accuracy_curves_list_the_new_methods(app) -> None:
    from attention_atlas.dashboard.data import accuracy
    from attention_atlas.dashboard.data.service import service
    from attention_atlas.dashboard.pages import faithfulness

    run = service().run(None)
    _fig, table = faithfulness.faithfulness_view(FaithfulnessState.parse(""), run)
    assert set(NEW) <= set(table["method"])
    result = accuracy.accuracy_curves(run, FaithfulnessState.parse("").corpus.to_filter(run.id))
    assert "lime" in result.bottom and "saliency" not in result.bottom
    assert set(NEW) <= set(result.top)
    assert {
        row[0] for row in faithfulness.consistency_rows(FaithfulnessState.parse(""), run)
    } >= set(NEW)


def test_example_tracks_and_grid_with_a_new_reference(app) -> None:
    from attention_atlas.dashboard.pages import example

    rows, _heatmap, grid, search = example.update_example(
        3, "", "subword", [], None, None, "grad_rollout", None
    )
    for method in NEW:
        assert f'title="{method}: ' in str(rows)
    assert "ref=grad_rollout" in search and grid["data"]


def test_compare_page_lists_the_new_methods(app) -> None:
    from attention_atlas.dashboard.pages import compare

    _app, first, second = app
    dist, _worst, heads, state = compare.update_compare(
        "lime", "spearman", "saliency", f"?a={first}&b={second}"
    )
    names = [t["name"] for t in dist["data"]]
    assert {vocabulary.label_of(m) for m in NEW} <= set(names)
    assert "ref=saliency" in state and "method=lime" in state and heads["data"]

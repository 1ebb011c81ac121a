"""The Dash app: layouts and callbacks called directly on a synthetic store; no browser."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.dash_fixtures import build_store

from attention_atlas.dashboard import urls
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import CorpusState, HeadsState


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url, _ = build_store(tmp_path_factory.mktemp("app"))
    return create_app(url)


@pytest.fixture
def request_ctx(app):
    with app.server.test_request_context("/"):
        yield


def test_pages_render_over_http(app) -> None:
    client = app.server.test_client()
    for path in ("/", "/?pair=bad&page=x", "/example/3", "/example/abc", "/heads", "/faithfulness"):
        assert client.get(path).status_code == 200


def test_layouts_safe_without_arguments_and_with_junk(request_ctx) -> None:
    from attention_atlas.dashboard.pages import corpus, example, faithfulness, heads

    for page in (corpus, heads, faithfulness):
        assert page.layout() is not None
        assert page.layout(measure="zzz", agree="nan", junk="1") is not None
    assert "not found" in str(example.layout()).lower()
    assert "not found" in str(example.layout(example_id="99999")).lower()


def _controls(**overrides):
    from attention_atlas.dashboard.pages import corpus

    values = {key: None for _, key in corpus.FILTER_INPUTS}
    values.update(overrides)
    return [values[key] for _, key in corpus.FILTER_INPUTS]


def test_filter_changes_table_and_counts(request_ctx) -> None:
    from attention_atlas.dashboard.pages import corpus

    rows_all, text_all, *_ = corpus.update_table(*_controls(), None)
    rows, text, _info, page, search = corpus.update_table(*_controls(label=[1], correct="no"), None)
    assert all(r["label"] == "positive" and r["correct"] is False for r in rows)
    assert len(rows) < len(rows_all) and text != text_all
    assert "correct=no" in search and "label=1" in search and page == 1


def test_box_selection_filters_table(request_ctx) -> None:
    from attention_atlas.dashboard.pages import corpus

    selection = corpus.selection_from_event(
        {"range": {"x": [0.0, 0.6], "y": [-1, 1]}, "points": []}
    )
    rows, *_rest, search = corpus.update_table(*_controls(), selection)
    assert rows and all(r["x"] <= 0.6 for r in rows)
    assert "box=0,0.6,-1,1" in search
    lasso = corpus.selection_from_event({"points": [{"customdata": 5}, {"customdata": 2}]})
    assert lasso == {"ids": [2, 5]}


def test_row_click_opens_example_keeping_filter(request_ctx) -> None:
    from attention_atlas.dashboard.pages import corpus

    href = corpus.open_example({"rowId": "7", "rowIndex": 0}, [], "?label=1&page=2")
    assert href == "/example/7?label=1&page=2"


def test_example_callback_and_prev_next(request_ctx) -> None:
    from attention_atlas.dashboard.pages import example

    rows, heatmap, grid, search = example.update_example(
        3, "?label=1", "word", [1], 0, 2, "shap", 4
    )
    assert "layer=0" in search and "head=2" in search and "label=1" in search
    assert grid["layout"]["shapes"] and heatmap["data"]
    assert example.pick_head({"points": [{"x": 2, "y": 1}]}) == (1, 2)
    state = example.ExampleState.parse("?sort=id")
    from attention_atlas.dashboard.data.service import service

    run = service().run(None)
    prev_id, next_id, pos, total = example.neighbours(state, run, 3)
    assert (prev_id, next_id, pos) == (2, 4, 3) and total == 60


def test_heads_view_and_csv(request_ctx) -> None:
    from attention_atlas.dashboard.pages import corpus, heads

    grid, trend, table = heads.heads_view(HeadsState.parse("?layer=1&head=0&stat=rho"))
    assert "agrees most" in str(table) and grid["data"][0]["z"] is not None
    sent = corpus.download_csv(1, "?label=0")
    assert sent["filename"].endswith(".csv") and "text" in sent["content"].splitlines()[0]


def test_nav_links_keep_filter_but_not_page(app) -> None:
    assert urls.nav_links("?label=1&page=3&layer=2") == [
        "/?label=1",
        "/heads?label=1",
        "/faithfulness?label=1",
        "/compare?label=1",
        "/views?label=1",
    ]
    assert urls.example(7, "?label=1") == "/example/7?label=1"
    assert CorpusState.parse("?page=3").with_(page=1).to_search() == ""


def test_import_leaves_ml_libraries_out() -> None:
    code = (
        "import sys, attention_atlas.dashboard.server.app, attention_atlas.dashboard.pages\n"
        "bad = [m for m in ('torch', 'transformers', 'captum', 'shap') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

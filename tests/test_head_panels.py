"""Head roles and summaries (pure numpy, known answers) and the heads page's causal panels on
a synthetic store: three grids, the correlation, the per-layer chart, a click filtering the
example list, every control in the URL, and the compare page's two importance grids."""

from __future__ import annotations

import numpy as np
import pytest
from support.dash_fixtures import build_store

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import CompareState, HeadsState
from attention_atlas.db.analysis import head_roles, head_summary


def _uniform(layers: int, heads: int, n: int) -> np.ndarray:
    return np.full((layers, heads, n, n), 1.0 / n)


def test_a_head_attending_only_to_the_previous_token_is_labelled_so() -> None:
    n = 9
    full = _uniform(2, 3, n)
    previous = np.zeros((n, n))
    previous[0, 0] = 1.0
    previous[np.arange(1, n), np.arange(n - 1)] = 1.0
    full[1, 2] = previous
    tokens = ["[CLS]", "a", "good", ",", "film", "!", "really", "great", "[SEP]"]
    sink = np.isin(np.arange(n), [0, n - 1])
    stats = head_roles.role_stats(full, sink, head_roles.punctuation_mask(tokens))
    labels = head_roles.role_labels(stats)
    assert stats[1, 2, 0] == pytest.approx(1.0) and stats[1, 2, 4] == pytest.approx(0.0)
    assert labels[1, 2] == "previous"
    assert (labels == "previous").sum() == 1
    assert labels[0, 0] == "broad"  # uniform rows: normalised entropy 1
    assert stats[0, 0, 2] == pytest.approx(2 / n) and stats[0, 0, 3] == pytest.approx(2 / n)


def test_self_sink_and_punctuation_heads_take_their_roles() -> None:
    n = 6
    full = _uniform(1, 3, n)
    full[0, 0] = np.eye(n)
    full[0, 1] = 0.0
    full[0, 1, :, 0] = 1.0
    full[0, 2] = 0.0
    full[0, 2, :, 3] = 1.0
    punctuation = head_roles.punctuation_mask(["[CLS]", "Ġwow", "##s", "Ġ...", "▁ok", "[SEP]"])
    assert punctuation.tolist() == [False, False, False, True, False, False]
    labels = head_roles.role_labels(head_roles.role_stats(full, np.zeros(n, bool), punctuation))
    assert labels.tolist() == [["self", "sink", "punctuation"]]


def test_top_token_mask_and_row_share() -> None:
    scores = np.array([9.0, 0.1, -3.0, 0.2, 2.0, 0.0, 0.5, 0.4, 0.3, 0.6, 0.7, 9.0])
    content = np.ones(12, bool)
    content[[0, 11]] = False
    mask = head_roles.top_token_mask(scores, content)  # ceil(10% of 10) = 1 token: |-3|
    assert np.flatnonzero(mask).tolist() == [2]
    rows = np.zeros((1, 1, 12))
    rows[0, 0, [2, 5]] = [0.25, 0.75]
    assert head_roles.row_share(rows, mask)[0, 0] == pytest.approx(0.25)


def test_rank_correlation_and_top_examples() -> None:
    agreement = np.array([[0.1, 0.5], [0.9, np.nan]])
    assert head_summary.rank_correlation(agreement, agreement * 3) == pytest.approx(1.0)
    assert head_summary.rank_correlation(agreement, -agreement) == pytest.approx(-1.0)
    assert head_summary.rank_correlation(agreement, np.ones((2, 2))) is None
    values = np.array([[[0.2]], [[np.nan]], [[0.9]], [[0.5]]])
    top = head_summary.top_examples(np.array([10, 11, 12, 13]), values, 0, 0, 2)
    assert top == [(12, 0.9), (13, 0.5)]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url, _ = build_store(tmp_path_factory.mktemp("heads"))
    return create_app(url)


@pytest.fixture
def request_ctx(app):
    with app.server.test_request_context("/"):
        yield


def test_panels_show_importance_roles_layers_and_correlation(request_ctx) -> None:
    from attention_atlas.dashboard import head_panels

    grid, roles, layers, corr, table = head_panels.panels_view(HeadsState.parse(""))
    assert np.asarray(grid["data"][0]["z"]).shape == (2, 3)
    assert np.asarray(roles["data"][0]["z"]).shape == (2, 3)
    assert [t["name"] for t in layers["data"]] == [
        "ig top 10% tokens",
        "frame + punctuation tokens",
    ]
    assert len(layers["data"][0]["x"]) == 2
    rho = float(corr.split(": ")[-1].split(" ")[0])
    assert rho > 0  # the synthetic importance follows the agreement
    assert table == ""  # no head selected yet


def test_a_selected_head_lists_where_it_matters_most_and_links_the_corpus(request_ctx) -> None:
    from attention_atlas.dashboard import head_panels

    *_, table, search = head_panels.update_panels("ig", "ablation", [1, 2], "?label=1")
    assert search == "?head=2&imp=ablation&label=1&layer=1"
    text = str(table)
    assert "matters most (ablation)" in text
    links = [c for c in table.children if getattr(c, "href", "").startswith("/?")]
    listed = links[0].href
    assert "label=1" in listed and "ids=" in listed
    shown = [int(x) for x in listed.split("ids=")[1].split("&")[0].split(",")]
    assert 0 < len(shown) <= 10


def test_clicks_on_any_grid_select_that_head(app) -> None:
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from attention_atlas.dashboard import head_panels, ids

    click = {"points": [{"x": 2, "y": 1}]}
    for grid in head_panels.GRIDS:
        token = context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": f"{grid}.clickData", "value": click}])
        )
        try:
            args = [click if g == grid else None for g in head_panels.GRIDS]
            assert head_panels.select_head(*args) == [1, 2]
        finally:
            context_value.reset(token)
    assert ids.HD_IMP_GRID in head_panels.GRIDS


def test_heads_url_codec_keeps_the_importance_measure() -> None:
    assert HeadsState.parse("?imp=ablation").imp == "ablation"
    assert HeadsState.parse("?imp=bogus").imp == "gradient"
    assert HeadsState.parse("?imp=gradient").to_search() == ""


def test_heads_page_renders_over_http_with_hostile_keys(app) -> None:
    client = app.server.test_client()
    for path in ("/heads?imp=ablation&layer=99&head=-1", "/heads?imp=%00&ref=zzz"):
        assert client.get(path).status_code == 200


def test_compare_page_shows_both_runs_importance_grids(tmp_path) -> None:
    from sqlalchemy import update

    from attention_atlas.db.engine import make_engine
    from attention_atlas.db.synthetic import fill_synthetic_store
    from attention_atlas.models.schema import Example

    url, _ = build_store(tmp_path)
    engine = make_engine(url)
    twin = fill_synthetic_store(engine, 60, 2, 3, 8, 40, 8, run_name="twin", full_max_tokens=24)
    with engine.begin() as connection:  # the twin reads the same corpus rows as run 1
        connection.execute(
            update(Example).where(Example.run_id == twin).values(source_index=Example.id - 60)
        )
    engine.dispose()
    app = create_app(url)
    from attention_atlas.dashboard.pages import compare

    with app.server.test_request_context("/"):
        figures = compare.importance_grids(CompareState(a=1, b=2))
    assert len(figures) == 2
    grids = [np.asarray(figure["data"][0]["z"]) for figure in figures]
    assert [g.shape for g in grids] == [(2, 3), (2, 3)] and not np.allclose(grids[0], grids[1])
    assert figures[0]["data"][0]["zmax"] == figures[1]["data"][0]["zmax"]  # one colour scale


def test_a_run_stored_before_head_statistics_says_so(tmp_path) -> None:
    from sqlalchemy import delete, update

    from attention_atlas.dashboard import head_panels
    from attention_atlas.db.engine import make_engine
    from attention_atlas.models.schema import HeadScore, HeadStat

    url, _ = build_store(tmp_path)
    engine = make_engine(url)
    with engine.begin() as connection:  # what a store written before revision 0005 holds
        connection.execute(delete(HeadStat))
        connection.execute(update(HeadScore).values(top_share=None))
    engine.dispose()
    with create_app(url).server.test_request_context("/"):
        grid, roles, layers, corr, table = head_panels.panels_view(
            HeadsState.parse("?layer=0&head=0")
        )
    texts = [f.layout.annotations[0].text for f in (grid, roles, layers)]
    assert texts == [
        "no gradient head importance stored for this run",
        "no head roles stored for this run",
        "no attention shares stored for this run",
    ]
    assert corr == "agreement vs importance: not available for this run" and table == ""

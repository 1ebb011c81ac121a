"""``Cache-Control`` on the dashboard's static responses, read from real responses of the app
over a synthetic store (Flask's test client): a file whose URL names its content (a Dash
component bundle, plotly.js, an ``/assets`` file with its ``?m=`` time) is cached for good; a
file that may change under its URL is revalidated; an error is never cached."""

from __future__ import annotations

import os
import re
from pathlib import Path

import dash
import pytest
from support.dash_fixtures import build_store

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.server.cache_headers import IMMUTABLE, REVALIDATE, _asset_policy

YEAR = 31536000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    url, _ = build_store(tmp_path_factory.mktemp("cache"), n_examples=12)
    return create_app(url).server.test_client()


@pytest.fixture(scope="module")
def index(client) -> str:
    answer = client.get("/")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _cache_control(client, path: str) -> str | None:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.headers.get("Cache-Control")


def test_every_bundle_the_index_names_is_cached_for_a_year(client, index: str) -> None:
    bundles = re.findall(r'src="(/_dash-component-suites/[^"]+)"', index)
    assert any("/dash_ag_grid/dash_ag_grid.v" in b for b in bundles), bundles
    assert any("/dash_ag_grid/async-community.v" in b for b in bundles)  # loaded with the page
    for bundle in bundles:
        policy = _cache_control(client, bundle)
        assert policy == IMMUTABLE and f"max-age={YEAR}" in policy, bundle
    assert client.get("/").headers.get("Cache-Control") is None  # the page itself: not static


def test_plotly_is_named_by_a_fingerprinted_url_cached_for_a_year(client, index: str) -> None:
    url = re.search(r'window\.atlasPlotlyURL = "([^"]+)"', index).group(1)
    name = re.escape("/_dash-component-suites/plotly/package_data/plotly") + r"\.v\w+m\d+\.min\.js"
    assert re.fullmatch(name, url), url
    answer = client.get(url)
    assert answer.status_code == 200 and len(answer.data) > 3_000_000  # plotly.js itself
    assert answer.headers["Cache-Control"] == IMMUTABLE
    assert "plotly_loader.js?m=" in index  # the script that hands the URL to dcc.Graph


def test_unfingerprinted_bundles_are_revalidated(client) -> None:
    for path in (
        "/_dash-component-suites/plotly/package_data/plotly.min.js",
        "/_dash-component-suites/dash/dcc/async-graph.js",  # a chunk webpack asks for by name
    ):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == REVALIDATE, path
        again = client.get(path, headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", path  # revalidating is cheap


def test_assets_are_immutable_while_their_m_is_the_file_time(client, index: str) -> None:
    links = re.findall(r'"(/assets/([\w.]+)\?m=([\d.]+))"', index)
    assert {name for _, name, _ in links} >= {"atlas.css", "atlas.js", "tracks.js"}
    for url, _, _ in links:
        assert _cache_control(client, url) == IMMUTABLE, url
    url, name, m = links[0]
    assert _cache_control(client, f"/assets/{name}") == REVALIDATE  # no ?m=: may change
    assert _cache_control(client, f"/assets/{name}?m={float(m) - 60}") == REVALIDATE  # an old m


def test_an_edited_asset_is_revalidated_under_its_old_url(tmp_path: Path) -> None:
    css = tmp_path / "atlas.css"
    css.write_text("body {}")
    m = str(css.stat().st_mtime)  # as Dash writes it into the index page
    assert _asset_policy(css, m) == IMMUTABLE
    os.utime(css, (css.stat().st_atime, css.stat().st_mtime + 5))  # an edit
    assert _asset_policy(css, m) == REVALIDATE
    assert _asset_policy(tmp_path / "gone.css", m) == REVALIDATE


def test_errors_and_dynamic_answers_carry_no_cache_policy(client) -> None:
    assert client.get("/assets/no-such-file.css").status_code == 404
    assert client.get("/assets/no-such-file.css").headers.get("Cache-Control") is None
    assert client.get("/_dash-layout").headers.get("Cache-Control") is None
    favicon = client.get(f"/_favicon.ico?v={dash.__version__}")
    assert favicon.headers["Cache-Control"] == IMMUTABLE  # Dash's own, named by its version

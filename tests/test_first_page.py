"""The page a browser opens comes inside ``/_dash-layout`` (named by the request's Referer),
exactly as the router callback would build it, so the first visit makes no router round trip;
without a usable Referer the layout is the empty shell the router fills, as before."""

from __future__ import annotations

import logging
from typing import Any

import dash
import pytest
from support.dash_fixtures import build_store

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.server.first_page import CONTENT, LOCATION, STORE

HOST = "http://localhost"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    url, _ = build_store(tmp_path_factory.mktemp("first-page"), n_examples=12)
    return create_app(url).server.test_client()


def _by_id(tree: Any, found: dict | None = None) -> dict[str, dict]:
    """{id: props} of every component with a string id in a layout's JSON."""
    found = {} if found is None else found
    if isinstance(tree, list):
        for item in tree:
            _by_id(item, found)
    elif isinstance(tree, dict):
        props = tree.get("props", {})
        if isinstance(props.get("id"), str):
            found[props["id"]] = props
        for value in props.values():
            _by_id(value, found)
    return found


def _layout(client, referrer: str | None) -> dict[str, dict]:
    headers = {"Referer": referrer} if referrer else {}
    answer = client.get("/_dash-layout", headers=headers)
    assert answer.status_code == 200
    return _by_id(answer.get_json())


def _router(client, path: str) -> Any:
    """The router callback's page layout for ``path``, as the renderer asks for it."""
    pathname, _, query = path.partition("?")
    output = f"..{CONTENT}.children...{STORE}.data.."
    payload = {
        "output": output,
        "outputs": [
            {"id": CONTENT, "property": "children"},
            {"id": STORE, "property": "data"},
        ],
        "inputs": [
            {"id": LOCATION, "property": "pathname", "value": pathname},
            {"id": LOCATION, "property": "search", "value": f"?{query}" if query else ""},
        ],
        "state": [],
        "changedPropIds": [f"{LOCATION}.pathname"],
    }
    answer = client.post("/_dash-update-component", json=payload)
    assert answer.status_code == 200, answer.data[:300]
    return answer.get_json()["response"]


@pytest.mark.parametrize(
    "path", ["/", "/?label=1&sort=confidence", "/example/5?layer=1", "/heads", "/faithfulness"]
)
def test_the_layout_holds_the_page_the_router_would_answer(client, path: str) -> None:
    found = _layout(client, HOST + path)
    routed = _router(client, path)
    assert found[CONTENT]["children"] == routed[CONTENT]["children"]
    pathname, _, query = path.partition("?")
    assert found[LOCATION]["pathname"] == pathname  # so the router does not run on load
    assert found[LOCATION]["search"] == (f"?{query}" if query else "")
    assert found[STORE]["data"] == routed[STORE]["data"]  # the page's title


def test_the_corpus_table_rows_are_in_the_first_layout(client) -> None:
    found = _layout(client, HOST + "/")
    assert len(found["corpus-grid"]["rowData"]) == 12


@pytest.mark.parametrize(
    "referrer", [None, "http://elsewhere.example/", HOST + "/no-such-page", "not a url"]
)
def test_without_a_page_of_this_site_the_router_fills_the_shell(client, referrer) -> None:
    found = _layout(client, referrer)
    assert found[CONTENT].get("children") is None and "pathname" not in found[LOCATION]


def test_a_page_whose_layout_raises_is_left_to_the_router(client, monkeypatch, caplog) -> None:
    page = next(p for p in dash.page_registry.values() if p["path"] == "/heads")

    def broken(**_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(page, "layout", broken)
    with caplog.at_level(logging.ERROR):
        found = _layout(client, HOST + "/heads")
    assert found[CONTENT].get("children") is None
    assert "the router callback will build it" in caplog.text

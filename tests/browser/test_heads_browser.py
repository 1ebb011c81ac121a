"""The heads page's causal panels in headless Chromium: a click on a head in the importance
grid selects it in every grid and in the URL, lists where it matters most and links the corpus
list filtered to those examples; a copied link restores the importance measure and the head."""

from __future__ import annotations

import re

import pytest
from support.browser import full_page_screenshot, served
from support.dash_fixtures import build_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL_CENTRE = """([id, layer, head]) => {
    const plot = document.querySelector('#' + id + ' .js-plotly-plot');
    const box = plot.getBoundingClientRect(), full = plot._fullLayout;
    return [box.left + full.xaxis._offset + full.xaxis.l2p(head),
            box.top + full.yaxis._offset + full.yaxis.l2p(layer)];
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, _ = build_store(tmp_path_factory.mktemp("heads-browser"))
    with served(url) as base:
        yield base


def _click_cell(page, grid: str, layer: int, head: int) -> None:
    page.wait_for_selector(f"#{grid} .main-svg")
    x, y = page.evaluate(CELL_CENTRE, [grid, layer, head])
    page.mouse.click(x, y)


def _outlined(page, grid: str) -> list:
    return page.evaluate(f"document.querySelector('#{grid} .js-plotly-plot').layout.shapes || []")


def test_a_click_on_the_importance_grid_selects_the_head_everywhere(server, page) -> None:
    page.goto(server + "/heads?label=1")
    page.wait_for_selector("#heads-role-grid .main-svg")
    page.wait_for_function("document.body.innerText.includes('Spearman ρ over heads')")
    _click_cell(page, "heads-importance-grid", 1, 2)
    page.wait_for_function(
        "location.search.includes('layer=1') && location.search.includes('head=2')"
    )
    assert "label=1" in page.url
    page.wait_for_function("document.body.innerText.includes('matters most (gradient)')")
    for grid in ("heads-grid", "heads-importance-grid", "heads-role-grid"):
        page.wait_for_function(
            f"(document.querySelector('#{grid} .js-plotly-plot').layout.shapes || []).length == 1"
        )
        assert _outlined(page, grid)[0]["x0"] == pytest.approx(1.5)
    full_page_screenshot(page, "heads-causal-synthetic")
    page.click("text=these examples in the corpus list")
    page.wait_for_selector("#corpus-grid .ag-row", timeout=15000)
    assert re.search(r"ids=\d+(,\d+)*", page.url) and "label=1" in page.url
    assert page.errors == []


def test_a_copied_link_restores_the_measure_and_the_head(server, page) -> None:
    page.goto(server + "/heads?imp=ablation&layer=0&head=1")
    page.wait_for_function("document.body.innerText.includes('matters most (ablation)')")
    assert page.is_checked("#heads-importance-kind input[value='ablation']")
    _click_cell(page, "heads-role-grid", 1, 0)
    page.wait_for_function(
        "location.search.includes('layer=1') && location.search.includes('head=0')"
    )
    assert "imp=ablation" in page.url
    assert page.errors == []

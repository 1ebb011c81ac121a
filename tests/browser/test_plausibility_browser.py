"""Human rationales in headless Chromium: an example with a rationale shows it as its own track
above the methods (and in the overview strip) with plausibility beside faithfulness, and the
faithfulness page's plausibility view follows its controls into the URL (issue 23)."""

from __future__ import annotations

import pytest
from support.browser import full_page_screenshot, served
from support.dash_fixtures import build_store

from attention_atlas.models import vocabulary

pytestmark = [pytest.mark.browser]

MARKED = 4  # synthetic rationales skip every fifth example (ids 5, 10, ...)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, _ = build_store(tmp_path_factory.mktemp("plausibility-browser"), 20, rationales=True)
    with served(url) as base:
        yield base


def test_example_shows_the_rationale_track_and_plausibility(server, page) -> None:
    page.goto(f"{server}/example/{MARKED}")
    page.wait_for_selector("#example-tokens .track-line .tok-row", timeout=30000)
    rows = page.locator("#example-tokens .track-line").first.locator(".tok-row")
    assert rows.first.get_attribute("data-method") == "rationale"
    assert rows.nth(1).get_attribute("data-method") == "attention"
    assert page.locator("#example-tokens .ov-names .ov-name").first.inner_text() == "rationale"
    marked = page.locator(
        '#example-tokens .tok-row[data-method="rationale"] .tok[title$="= marked"]'
    )
    assert marked.count() > 0
    assert "tokens marked" in page.inner_text("#example-rationale-note")
    header = page.inner_text("#example-scores thead")
    assert "comprehensiveness" in header and "AUPRC" in header and "IOU F1" in header
    full_page_screenshot(page, "example-rationale")
    assert page.errors == []


def test_faithfulness_plausibility_view_keeps_its_controls_in_the_url(server, page) -> None:
    page.goto(f"{server}/faithfulness")
    page.wait_for_selector("#faithfulness-plausibility-figure .main-svg", timeout=30000)
    assert "random order" in page.inner_text("#faithfulness-plausibility-table")
    page.locator("#faithfulness-pmeasure input[value=token_f1]").check()
    page.wait_for_function("window.location.search.includes('pmeasure=token_f1')")
    page.locator("#faithfulness-pfaith input[value=sufficiency]").check()
    page.wait_for_function("window.location.search.includes('pfaith=sufficiency')")
    page.wait_for_function(
        "document.querySelector('#faithfulness-plausibility-figure .ytitle')"
        "?.textContent.includes('token F1')"
    )
    points = page.locator("#faithfulness-plausibility-figure .scatterlayer .point")
    # every method the synthetic run stores, and the random baseline
    assert points.count() == len(vocabulary.one_stack_method_ids()) + 1
    link = page.evaluate("window.location.href")
    page.goto(link)
    page.wait_for_selector("#faithfulness-plausibility-figure .main-svg")
    assert page.is_checked("#faithfulness-pfaith input[value=sufficiency]")
    full_page_screenshot(page, "faithfulness-plausibility")
    assert page.errors == []


def test_corpus_filters_and_sorts_by_a_methods_plausibility(server, page) -> None:
    page.goto(f"{server}/")
    page.wait_for_selector("#corpus-grid .ag-row", timeout=30000)
    before = page.inner_text("#corpus-counts")
    page.fill("#corpus-pmin", "attention:0.5")
    page.press("#corpus-pmin", "Enter")
    page.wait_for_function("window.location.search.includes('pmin=attention:0.5')")
    page.wait_for_function(f"document.querySelector('#corpus-counts').textContent !== {before!r}")
    page.fill("#corpus-pmax", "ig:0.9")
    page.press("#corpus-pmax", "Enter")
    page.wait_for_function("window.location.search.includes('pmax=ig:0.9')")
    assert page.locator("#corpus-grid .ag-header-cell[col-id='plaus']").count() == 1
    assert page.errors == []

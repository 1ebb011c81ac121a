"""A three-class sentence-pair run (premise / hypothesis, entailment / neutral / contradiction)
in headless Chromium: every page loads without console errors, the example page shows the two
texts and marks where the hypothesis starts, and the corpus page's hypothesis-share filter
narrows the table and lands in the URL."""

from __future__ import annotations

import pytest
from support.browser import corpus_counts, full_page_screenshot, served
from support.checkpoints import NLI_LABELS
from support.pair_store import N_PAIRS, build_pair_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = build_pair_store(tmp_path_factory.mktemp("pairs-browser"))
    with served(url) as base:
        yield base


@pytest.mark.parametrize(
    "path",
    [
        "/?share=ig&sort=share&desc=1",
        "/example/1",
        "/heads?label=2",
        "/faithfulness?label=1&view=accuracy",
        "/compare?a=1&b=1",
    ],
)
def test_pair_pages_load_without_console_errors(server, page, path) -> None:
    page.goto(server + path)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)
    name = "pairs-" + (path.strip("/").split("?")[0].replace("/", "-") or "corpus")
    full_page_screenshot(page, name)
    assert page.errors == []
    if path.startswith("/?"):
        page.wait_for_selector("#corpus-grid .ag-row")
        body = page.inner_text("#corpus-grid")
        assert "hypothesis share of |ig|" in body
        assert any(label in body for label in NLI_LABELS)


def test_example_shows_both_texts_and_the_boundary(server, page) -> None:
    page.goto(server + "/example/1")
    page.wait_for_selector("#example-tokens .track-line")
    text = page.inner_text("#example-text")
    assert "PREMISE" in text.upper() and "HYPOTHESIS" in text.upper()
    assert page.locator("#example-text p").count() == 2
    marked = page.locator("#example-tokens .tok-word.tok-pair-start")
    assert marked.count() == 1 and "hypothesis starts" in marked.get_attribute("title")
    assert page.locator("#example-tokens .ov-pair").count() == 1
    assert page.errors == []


def test_hypothesis_share_filter_narrows_the_table(server, page) -> None:
    page.goto(server + "/?share=ig")
    page.wait_for_selector("#corpus-grid .ag-row")
    before = corpus_counts(page)
    assert before.startswith(f"{N_PAIRS} examples")
    page.fill("#corpus-share-min", "0.5")
    page.press("#corpus-share-min", "Enter")
    page.wait_for_function("window.location.search.includes('minshare=0.5')")
    page.wait_for_function(f"document.querySelector('#corpus-counts').textContent !== {before!r}")
    after = corpus_counts(page)
    assert 0 < int(after.split()[0]) < N_PAIRS
    shares = page.locator("#corpus-grid .ag-row [col-id='share']")
    assert all(float(shares.nth(i).inner_text()) >= 0.5 for i in range(shares.count()))
    assert page.errors == []

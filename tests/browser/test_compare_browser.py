"""Browser journey on the compare page: from ``/compare?a=..&b=..`` one click on the most
different example lands on the side-by-side view with both runs' token rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.browser import full_page_screenshot, served
from support.compare_store import sanity_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path, shared_data: Path):
    return sanity_store(tmp_path_factory, tiny_bert_dir, shared_data)


def test_most_different_example_opens_the_side_by_side_view(store, page) -> None:
    url, a, b = store
    with served(url) as base:
        page.goto(f"{base}/compare?a={a}&b={b}")
        first = page.locator("#compare-worst li a").first
        first.wait_for(timeout=20000)
        source = re.match(r"source (\d+):", first.inner_text()).group(1)
        assert "Sanity check" in page.inner_text("#compare-sanity")
        full_page_screenshot(page, "compare")
        first.click()
        page.wait_for_url(f"**/compare/example?a={a}&b={b}&source={source}")
        page.wait_for_selector("#compare-side-a .tok-row")
        page.wait_for_selector("#compare-side-b .tok-row")
        assert page.locator("#compare-side-a .tok-row").count() == 5
        assert page.locator("#compare-side-b .tok-row").count() == 5
        full_page_screenshot(page, "compare-example")
        assert page.errors == []

"""The example page's Export button in headless Chromium: the downloaded HTML opens from disk
with the server stopped and the network cut, and shows its token rows and figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import full_page_screenshot, recording_page, served
from support.dash_fixtures import build_store

from attention_atlas.models import vocabulary

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _download_export(browser, base: str, folder: Path) -> Path:
    with recording_page(browser) as page:
        page.goto(base + "/example/5?layer=1&head=2")
        page.wait_for_selector("#example-export")
        page.wait_for_load_state("networkidle")
        with page.expect_download(timeout=60000) as download:
            page.click("#example-export")
        target = folder / download.value.suggested_filename
        download.value.save_as(target)
        assert page.errors == []
    return target


def test_exported_html_opens_offline_with_the_server_stopped(tmp_path: Path, browser) -> None:
    url, _ = build_store(tmp_path)
    with served(url) as base:
        saved = _download_export(browser, base, tmp_path)
    assert saved.name == "atlas-example-5.html"
    with recording_page(browser) as page:
        fetched: list[str] = []

        def cut(route) -> None:
            if not route.request.url.startswith("file:"):
                fetched.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", cut)
        page.goto(saved.as_uri())
        for panel in ("export-attention", "export-head_grid", "export-deletion"):
            page.wait_for_selector(f"#{panel} .main-svg", timeout=20000)
        first_line = page.locator("#example-tokens .track-line").first
        n_methods = len(vocabulary.one_stack_method_ids())  # the synthetic run stores each
        assert first_line.locator(".tok-row").count() == n_methods  # one track per method
        assert page.locator("#example-tokens .overview .ov-row").count() == n_methods
        assert page.locator("#export-attention .heatmaplayer image").count() == 1
        assert page.locator("#export-head_grid .heatmaplayer image").count() == 1
        curves = page.locator("#export-deletion .scatterlayer .trace")
        assert curves.count() == n_methods + 1  # and the random order
        assert "layer 1, head 2" in page.inner_text("#export-attention")
        token = page.locator("#example-tokens .tok").nth(2)
        token.hover()
        same = page.locator(
            f'#example-tokens .tok-hl[data-pos="{token.get_attribute("data-pos")}"]'
        )
        assert same.count() == n_methods + 1  # the word and a cell per track: the hover script came
        full_page_screenshot(page, "export-html")
        assert fetched == [] and page.errors == []

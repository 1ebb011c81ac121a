"""Real-browser journeys in headless Chromium (Playwright driving /usr/bin/chromium).

Never runs ``playwright install``: it uses Debian's chromium. Screenshots of each page go to
``screenshots/`` (not committed) for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from dash_fixtures import build_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN001, ANN201
    url, _ = build_store(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    code = f"from dashboard.app import serve; serve({url!r}, '127.0.0.1', {port})"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urlopen(base, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def _counts(pg) -> str:  # noqa: ANN001
    pg.wait_for_function("document.querySelector('#corpus-counts')?.textContent.length > 0")
    return pg.inner_text("#corpus-counts")


def _wait_rows(pg) -> None:  # noqa: ANN001
    pg.wait_for_selector("#corpus-grid .ag-row", timeout=15000)


@pytest.mark.parametrize(
    "path", ["/", "/example/5", "/heads?layer=1&head=2", "/faithfulness", "/example/123456"]
)
def test_pages_load_without_console_errors(server, page, path) -> None:  # noqa: ANN001
    page.goto(server + path)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height), 4000))})
    page.wait_for_timeout(500)
    SHOTS.mkdir(exist_ok=True)
    name = path.strip("/").replace("/", "-").split("?")[0] or "corpus"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert page.errors == []
    if path == "/example/123456":
        assert "Example not found" in page.inner_text("body")


def test_filter_changes_count_and_row_opens_example(server, page) -> None:  # noqa: ANN001
    page.goto(server + "/")
    _wait_rows(page)
    before = _counts(page)
    old_id = page.inner_text("#corpus-grid .ag-row[row-index='0'] [col-id='id']")
    page.get_by_label("incorrect").check()
    page.wait_for_function(f"document.querySelector('#corpus-counts').textContent !== {before!r}")
    page.wait_for_function("window.location.search.includes('correct=no')")
    cell = "#corpus-grid .ag-row[row-index='0'] [col-id='id']"
    page.wait_for_function(f'document.querySelector("{cell}")?.textContent !== {old_id!r}')
    first_id = page.inner_text("#corpus-grid .ag-row[row-index='0'] [col-id='id']")
    page.click("#corpus-grid .ag-row[row-index='0'] [col-id='snippet']")
    page.wait_for_url(f"**/example/{first_id}?**")
    page.wait_for_selector("#example-tokens .tok")
    assert page.errors == []


def test_hover_token_highlights_all_rows(server, page) -> None:  # noqa: ANN001
    page.goto(server + "/example/4")
    page.wait_for_selector("#example-tokens .tok-row")
    first = page.locator("#example-tokens .tok-row").first.locator(".tok").nth(2)
    pos = first.get_attribute("data-pos")
    first.hover()
    same = page.locator(f'#example-tokens .tok[data-pos="{pos}"]')
    n_rows = page.locator("#example-tokens .tok-row").count()
    assert same.count() == n_rows == 7
    for i in range(n_rows):
        assert "tok-hl" in same.nth(i).get_attribute("class")
    others = page.locator("#example-tokens .tok.tok-hl")
    assert others.count() == n_rows


def test_copied_link_restores_filters(server, page, browser) -> None:  # noqa: ANN001
    page.goto(server + "/?label=1")
    _wait_rows(page)
    before = _counts(page)
    page.get_by_label("agree", exact=True).check()
    page.wait_for_function("window.location.search.includes('band=agree')")
    page.wait_for_function(f"document.querySelector('#corpus-counts').textContent !== {before!r}")
    counts = _counts(page)
    page.click("#copy-link")
    page.wait_for_function("window.atlasCopiedLink !== undefined")
    link = page.evaluate("window.atlasCopiedLink")
    assert "band=agree" in link and "label=1" in link
    other = browser.new_page()
    other.goto(link)
    other.wait_for_function(f"document.querySelector('#corpus-counts')?.textContent === {counts!r}")
    assert other.get_by_label("agree", exact=True).is_checked()
    assert other.locator("#corpus-label input[type=checkbox]").nth(1).is_checked()
    other.goto(server + "/example/6?head=1&layer=0&token=3")
    other.wait_for_selector("#example-tokens .tok-pinned")
    assert other.locator("#example-tokens .tok-pinned").first.get_attribute("data-pos") == "3"
    other.close()

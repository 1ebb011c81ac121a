"""Headless Chromium (Debian's /usr/bin/chromium, driven by the Playwright pip package; never
``playwright install``) and a dashboard served in a subprocess, for the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(db_url: str) -> Iterator[str]:
    """Base URL of the dashboard over ``db_url``, served by a subprocess for the block."""
    port = _free_port()
    code = (
        "from attention_atlas.dashboard.server.app import serve; "
        f"serve({db_url!r}, '127.0.0.1', {port})"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urlopen(base, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def recording_page(browser, width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A page whose console errors and page errors collect in ``page.errors``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()


def corpus_counts(page) -> str:
    """The corpus page's counts line, once it is filled in."""
    page.wait_for_function("document.querySelector('#corpus-counts')?.textContent.length > 0")
    return page.inner_text("#corpus-counts")


def full_page_screenshot(page, name: str) -> Path:
    """Grow the viewport to the page's height, then save ``screenshots/<name>.png``."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(300)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height), 4000))})
    page.wait_for_timeout(500)
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- first page timing --------------------------------------------------------------------
_ROWS_WATCH = """
new MutationObserver((_, observer) => {
    if (document.querySelector('#corpus-grid .ag-row')) {
        window.atlasRowsAt = performance.now();
        observer.disconnect();
    }
}).observe(document, {childList: true, subtree: true});
"""

_RESOURCES = """
performance.getEntriesByType('resource').map(e => ({
    name: e.name, bytes: e.transferSize, body: e.decodedBodySize,
    start: e.startTime, end: e.responseEnd,
}))
"""


@dataclass(frozen=True)
class FirstPage:
    """What opening ``/`` in a fresh browser context cost: milliseconds from navigation start
    until the corpus table's first row is in the page, and the requests it took."""

    rows_ms: float
    resources: list[dict]

    def summary(self, top: int = 6) -> str:
        sent = sum(r["bytes"] for r in self.resources)
        body = sum(r["body"] for r in self.resources)
        slowest = sorted(self.resources, key=lambda r: r["end"] - r["start"], reverse=True)
        lines = [
            f"corpus table rows after {self.rows_ms:.0f} ms; {len(self.resources)} requests, "
            f"{sent / 1e6:.2f} MB transferred ({body / 1e6:.2f} MB decoded)"
        ]
        for r in slowest[:top]:
            path = r["name"].split("/", 3)[-1][:70]
            lines.append(
                f"  {r['start']:6.0f}-{r['end']:6.0f} ms {r['bytes'] / 1e3:8.1f} kB  /{path}"
            )
        return "\n".join(lines)


def timing_context(browser):
    """A browser context (its own cache) whose pages note when the corpus table's first row
    appears (``window.atlasRowsAt``, ms from navigation start)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(_ROWS_WATCH)
    return context


def first_page(browser, base: str, context=None) -> FirstPage:
    """Open ``base``/ and time the corpus table's rows: in a fresh context (empty cache), or in
    ``context`` from :func:`timing_context` (left open: a second call is a repeat visit)."""
    own = context is None
    context = timing_context(browser) if own else context
    try:
        page = context.new_page()
        page.goto(base + "/")
        page.wait_for_selector("#corpus-grid .ag-row", state="visible", timeout=30000)
        page.wait_for_function("window.atlasRowsAt !== undefined")
        page.wait_for_load_state("networkidle")
        visit = FirstPage(page.evaluate("window.atlasRowsAt"), page.evaluate(_RESOURCES))
        page.close()
        return visit
    finally:
        if own:
            context.close()

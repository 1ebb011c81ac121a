"""What every browser journey shares: the skip when Debian's Chromium or the Playwright package
is missing (the journeys never run ``playwright install``), one headless Chromium per test
module (``browser``) and a fresh page per test whose console and page errors collect in
``page.errors`` (``page``). A module that needs another window size overrides ``viewport``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import CHROMIUM, chromium, recording_page


@pytest.fixture(scope="session", autouse=True)
def _chromium_installed() -> None:
    """Skips every browser test (before any store is built) when it cannot drive Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium for the test module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def viewport() -> tuple[int, int]:
    """(width, height) of ``page``; override the fixture in a module for another size."""
    return 1400, 1000


@pytest.fixture
def page(browser: object, viewport: tuple[int, int]) -> Iterator[object]:
    """A page in a fresh browser context; its console errors and page errors collect in
    ``page.errors``."""
    with recording_page(browser, *viewport) as opened:
        yield opened

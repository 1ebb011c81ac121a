"""The example page on real-length IMDb reviews (512 tokens) in headless Chromium (issue 15).

Needs ``../shared/data/imdb`` and the MiniLM wheel (for its vocabulary); skipped without them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from support.browser import SHOTS, served
from support.imdb_store import build_imdb_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1440, "height": 1000}
DEFAULT_METHODS = ["attention", "rollout", "agrad", "grad_input", "ig", "shap"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_imdb_store(tmp_path_factory.mktemp("imdb"), n=2)


@pytest.fixture(scope="module")
def base(store):
    with served(store) as url:
        yield url


@pytest.fixture
def viewport() -> tuple[int, int]:
    return VIEWPORT["width"], VIEWPORT["height"]


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#example-tokens .track-line", timeout=30000)


def test_six_tracks_fit_two_screens_and_the_overview_pins_a_token(base, page) -> None:
    _open(page, base + "/example/1")
    names = page.locator("#example-tokens .track-line").first.locator(".tok-row")
    assert [names.nth(i).get_attribute("data-method") for i in range(6)] == DEFAULT_METHODS
    assert page.is_checked("#example-view input[value=word]")  # long text: words by default
    height = page.evaluate("document.querySelector('.token-section').offsetHeight")
    assert height <= 2 * VIEWPORT["height"], height
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "example-long.png"), full_page=True)
    strip = page.locator("#example-tokens .ov-row").first.locator("i")
    target = strip.nth(int(strip.count() * 0.8))
    pos = target.get_attribute("data-pos")
    target.click()
    page.wait_for_function(f"window.location.search.includes('token={pos}')")
    cells = page.locator(f'#example-tokens .tok[data-pos="{pos}"]')
    assert cells.count() == 1 + len(DEFAULT_METHODS)  # the word and one cell per track
    for i in range(cells.count()):
        assert "tok-pinned" in cells.nth(i).get_attribute("class")
        assert cells.nth(i).is_visible()
    box = cells.first.bounding_box()
    assert 0 <= box["y"] <= VIEWPORT["height"] - box["height"]  # scrolled into view
    assert page.errors == []


def test_link_restores_methods_density_and_pinned_token(base, page) -> None:
    _open(page, base + "/example/1")
    page.click("#example-density input[value=compact]")
    page.wait_for_function("window.location.search.includes('density=compact')")
    _open(page, base + "/example/1?density=compact&methods=shap,ig&token=40")
    rows = page.locator("#example-tokens .track-line").first.locator(".tok-row")
    assert [rows.nth(i).get_attribute("data-method") for i in range(rows.count())] == [
        "shap",
        "ig",
    ]
    assert page.locator("#example-tokens .tracks.density-compact").count() == 1
    page.wait_for_selector("#example-tokens .tok-word.tok-pinned")
    pinned = page.locator("#example-tokens .tok-pinned")
    assert pinned.count() == 3 and pinned.first.get_attribute("data-pos") == "40"
    assert page.is_checked("#example-density input[value=compact]")
    search = page.evaluate("window.location.search")
    assert "methods=shap,ig" in search and "token=40" in search and "density=compact" in search
    last = page.locator("#example-tokens .ov-row").first.locator("i").last.get_attribute("data-pos")
    _open(page, base + f"/example/1?token={last}")  # a link pinning the last word scrolls to it
    page.wait_for_selector("#example-tokens .tok-word.tok-pinned")
    page.wait_for_function(
        "(() => { const r = document.querySelector('#example-tokens .tok-word.tok-pinned')"
        ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()"
    )


def test_markup_is_shown_as_line_breaks_and_stored_tokens_stay(base, page, store) -> None:
    with create_engine(store).connect() as connection:
        stored = connection.execute(text("SELECT text, tokens FROM examples WHERE id = 1")).one()
    assert "<br /><br />" in stored.text
    _open(page, base + "/example/1")
    panel = page.locator("#example-text")
    assert panel.locator("br").count() >= 2
    assert "<br" not in panel.inner_text()
    marks = page.locator("#example-tokens .tok-word.tok-markup")
    assert marks.count() >= 2 and marks.first.inner_text() == "↵"
    page.click("#example-view input[value=subword]")
    page.wait_for_function("window.location.search.includes('view=subword')")
    page.wait_for_selector("#example-tokens .tok-word.tok-markup >> text='br'")
    with create_engine(store).connect() as connection:
        after = connection.execute(text("SELECT text, tokens FROM examples WHERE id = 1")).one()
    assert tuple(after) == tuple(stored)  # showing is all it does


def test_long_example_renders_fast_once_scripts_are_cached(base, page) -> None:
    _open(page, base + "/example/2")  # loads and caches the scripts
    tracks, figures = [], []
    for _ in range(3):
        page.goto(base + "/example/1?token=30")
        page.wait_for_function("window.atlasTracksShownAt !== undefined", timeout=30000)
        page.wait_for_selector("#example-heatmap .heatmaplayer")
        tracks.append(page.evaluate("window.atlasTracksShownAt"))
        figures.append(page.evaluate("performance.now()"))  # an upper bound (polling)
    print(
        "512-token example page after navigation: tracks shown at "
        + ", ".join(f"{t:.0f}" for t in tracks)
        + " ms; attention figure drawn by "
        + ", ".join(f"{t:.0f}" for t in figures)
        + " ms"
    )
    # the target is 1.5 s for the page; the tracks make it on this 2-core machine
    # shared with other test runs (load ~10), the plotly figures lag them by ~0.2 s there
    assert sorted(tracks)[1] < 1500 and sorted(figures)[1] < 3000

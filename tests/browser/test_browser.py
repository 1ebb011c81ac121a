"""Real-browser journeys in headless Chromium (Playwright driving /usr/bin/chromium).

Never runs ``playwright install``: it uses Debian's chromium. Screenshots of each page go to
``screenshots/`` (not committed) for a person to look at.
"""

from __future__ import annotations

import pytest
from support.browser import corpus_counts, first_page, full_page_screenshot, served
from support.dash_fixtures import build_store
from support.serve import serving

from attention_atlas.models import vocabulary

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, _ = build_store(tmp_path_factory.mktemp("browser"))
    with served(url) as base:
        yield base


def _wait_rows(pg) -> None:
    pg.wait_for_selector("#corpus-grid .ag-row", timeout=15000)


@pytest.mark.parametrize(
    "path", ["/", "/example/5", "/heads?layer=1&head=2", "/faithfulness", "/example/123456"]
)
def test_pages_load_without_console_errors(server, page, path) -> None:
    page.goto(server + path)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)
    full_page_screenshot(page, path.strip("/").replace("/", "-").split("?")[0] or "corpus")
    assert page.errors == []
    if path == "/example/123456":
        assert "Example not found" in page.inner_text("body")


def test_filter_changes_count_and_row_opens_example(server, page) -> None:
    page.goto(server + "/")
    _wait_rows(page)
    before = corpus_counts(page)
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


def test_hover_token_highlights_all_rows(server, page) -> None:
    page.goto(server + "/example/4")
    page.wait_for_selector("#example-tokens .tok-row")
    top = "document.querySelector('#example-tokens .track-line').getBoundingClientRect().top"
    shown_at = page.evaluate(top)
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("#example-heatmap .main-svg")
    assert page.evaluate(top) == shown_at  # nothing above the tracks grows once they are shown
    first = page.locator("#example-tokens .tok-row").first.locator(".tok").nth(2)
    pos = first.get_attribute("data-pos")
    first.hover()
    same = page.locator(f'#example-tokens .tok[data-pos="{pos}"]')
    n_tracks = page.locator("#example-tokens .track-line").first.locator(".tok-row").count()
    # the word, then one cell per track: the synthetic run stores every one-stack method
    assert n_tracks == len(vocabulary.one_stack_method_ids()) and same.count() == n_tracks + 1
    for i in range(same.count()):
        assert "tok-hl" in same.nth(i).get_attribute("class")
    others = page.locator("#example-tokens .tok.tok-hl")
    assert others.count() == n_tracks + 1


def test_copied_link_restores_filters(server, page, browser) -> None:
    page.goto(server + "/?label=1")
    _wait_rows(page)
    before = corpus_counts(page)
    page.get_by_label("agree", exact=True).check()
    page.wait_for_function("window.location.search.includes('band=agree')")
    page.wait_for_function(f"document.querySelector('#corpus-counts').textContent !== {before!r}")
    counts = corpus_counts(page)
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


def test_first_page_shows_its_table_fast_through_gunicorn(tmp_path_factory, browser) -> None:
    folder = tmp_path_factory.mktemp("first-page")
    url, _ = build_store(folder)
    with serving(url, folder) as served:
        visits = [first_page(browser, served.base) for _ in range(4)]  # the first one warms
    for i, visit in enumerate(visits):
        print(f"synthetic store, visit {i + 1}: {visit.summary()}")
    warm = sorted(v.rows_ms for v in visits[1:])
    print(f"synthetic store first page: median {warm[1]:.0f} ms over {len(warm)} warm visits")
    assert warm[1] < 5000
    encodings = {r["bytes"] < r["body"] for r in visits[-1].resources if r["body"] > 100_000}
    assert encodings == {True}, "a big response was sent uncompressed"

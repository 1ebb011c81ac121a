"""The reading group's journeys in headless Chromium (issue 14): add a note with two tags and
see it after a reload (its ``<script>`` shown as text, never run), filter the corpus by that
tag, save the view and open it again from ``/views``. Screenshots of the notes panel and the
views page go to ``screenshots/`` (the README shows them)."""

from __future__ import annotations

import pytest
from support.browser import SHOTS, corpus_counts, served
from support.dash_fixtures import build_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BODY = (
    "Negation **flips** the sentiment; IG sees it, attention does not. "
    "<script>window.pwned = 1</script>"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url, _ = build_store(tmp_path_factory.mktemp("notes-browser"))
    with served(url) as base:
        yield base


def test_note_tag_filter_and_saved_view(server, page) -> None:
    # add a note with two tags; the name is remembered in the browser
    page.goto(server + "/example/3?layer=1")
    page.wait_for_selector("#notes-body")
    page.fill("#notes-author", "Ann")
    page.press("#notes-author", "Tab")
    page.fill("#notes-body", BODY)
    page.fill("#notes-tags", "negation, disagree-but-faithful")
    page.click("#notes-submit")
    page.wait_for_function("document.querySelector('#notes-message').textContent === 'Note added.'")
    page.reload()
    page.wait_for_selector("#notes-list .note")
    note = page.inner_text("#notes-list .note")
    assert "Ann" in note and "negation" in note and "disagree-but-faithful" in note
    assert "<script>window.pwned = 1</script>" in note  # shown as text ...
    assert page.evaluate("window.pwned") is None  # ... and never run
    assert page.locator("#notes-list .note-body strong").inner_text() == "flips"
    page.wait_for_function("document.querySelector('#notes-author').value === 'Ann'")
    page.wait_for_selector("#notes-list button:has-text('Edit')")  # own note: editable
    SHOTS.mkdir(exist_ok=True)
    page.locator("#notes-panel").screenshot(path=str(SHOTS / "notes-panel.png"))

    # filter the corpus by one tag
    page.goto(server + "/")
    page.wait_for_selector("#corpus-grid .ag-row")
    page.click("#corpus-tag")
    page.get_by_text("negation (1)", exact=True).click(timeout=5000)
    page.wait_for_function("window.location.search.includes('tag=negation')")
    page.wait_for_function(
        "document.querySelector('#corpus-counts').textContent.startsWith('1 examples')"
    )
    rows = "#corpus-grid .ag-center-cols-container .ag-row"
    page.wait_for_function(f"document.querySelectorAll('{rows}').length === 1")
    assert page.inner_text(f"{rows} [col-id='id']") == "3"
    assert "disagree-but-faithful, negation" in page.inner_text("#corpus-grid")
    page.get_by_label("disagree", exact=True).check()
    page.wait_for_function("window.location.search.includes('band=disagree')")
    saved_search = page.evaluate("window.location.search")
    saved_counts = corpus_counts(page)

    # save this view, open it from /views, land in the same state
    page.click("#save-view")
    page.wait_for_function("document.querySelector('#save-view-author').value === 'Ann'")
    page.fill("#save-view-name", "Negations the methods disagree on")
    page.fill("#save-view-description", "For Thursday: do IG and attention split here?")
    page.click("#save-view-submit")
    page.wait_for_selector("#save-view-message a")
    page.goto(server + "/views")
    page.wait_for_selector("#views-list .view-link")
    page.screenshot(path=str(SHOTS / "views.png"), full_page=True)
    page.click("#views-list .view-link")
    page.wait_for_function(f"window.location.search === {saved_search!r}")
    assert page.evaluate("window.location.pathname") == "/"
    page.wait_for_function(
        f"document.querySelector('#corpus-counts')?.textContent === {saved_counts!r}"
    )
    assert "negation" in page.inner_text("#corpus-tag")
    assert page.get_by_label("disagree", exact=True).is_checked()
    assert page.errors == []

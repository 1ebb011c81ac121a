"""Every dashboard page over a store builds its layout without an error: the page a browser
opens is built server-side inside ``/_dash-layout`` (named by the Referer), and a layout that
raises is logged there (the router would then try again in the browser), so the check reads
the log, not only the status."""

from __future__ import annotations

import logging

import pytest

PAGES = (
    "/",
    "/example/{id}",
    "/example/{id}?layer=1&head=1",
    "/heads",
    "/faithfulness",
    "/faithfulness?view=accuracy",
    "/compare?a=1&b=1",
    "/views",
)


def assert_every_page_renders(
    app, example_id: int, caplog: pytest.LogCaptureFixture, extra: tuple[str, ...] = ()
) -> None:
    """``app`` (``create_app(url)``): each of :data:`PAGES` and ``extra`` answers 200 and logs
    no error while its layout is built."""
    client = app.server.test_client()
    for page in (*PAGES, *extra):
        path = page.format(id=example_id)
        caplog.clear()
        answer = client.get("/_dash-layout", headers={"Referer": f"http://localhost{path}"})
        assert answer.status_code == 200, path
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, (path, errors)

"""Every href the dashboard builds, from Dash's page registry and the URL-state codec (as
datasette's ``Urls``): a page's path is written once, in its ``register_page`` call.

Pages with a ``nav`` number (an extra ``register_page`` keyword) appear in the nav bar in that
order; the example page has a ``path_template`` and is linked through :func:`example`.
"""

from __future__ import annotations

import dash

from attention_atlas.dashboard import inputs
from attention_atlas.dashboard.urlstate import CorpusState

PAGES_PACKAGE = "attention_atlas.dashboard.pages"


def _page(name: str) -> dict:
    return dash.page_registry[f"{PAGES_PACKAGE}.{name}"]


def page(name: str, search: str = "") -> str:
    """``/path?search`` of the page module ``name`` (``corpus``, ``heads``, ...)."""
    return _page(name)["path"] + search


def example(example_id: int, search: str = "") -> str:
    """The example page of ``example_id``, keeping ``search`` (the corpus filter)."""
    template = _page("example")["path_template"]
    return template.replace("<example_id>", str(int(example_id))) + search


def nav_pages() -> list[dict]:
    """Registry entries of the pages in the nav bar, in their ``nav`` order."""
    pages = [p for p in dash.page_registry.values() if p.get("nav") is not None]
    return sorted(pages, key=lambda p: p["nav"])


def nav_links(search: str | None) -> list:
    """hrefs of the nav pages keeping the current corpus filter (but not its table page). In a
    callback, one per nav link the request names, in its order: the browser sends the links it
    has, and an answer of another length would be an error."""
    keep = CorpusState.parse(inputs.as_search(search)).with_(page=1).to_search()
    hrefs = {p["module"]: p["path"] + keep for p in nav_pages()}
    asked = _asked_pages()
    if asked is None:
        return list(hrefs.values())
    return [
        hrefs.get(page, dash.no_update) if isinstance(page, str) else dash.no_update
        for page in asked
    ]


def _asked_pages() -> list | None:
    """The ``page`` of each nav-link output of the running callback (None outside one)."""
    try:
        outputs = dash.ctx.outputs_list
    except dash.exceptions.MissingCallbackContextException:
        return None
    if not isinstance(outputs, list):
        return None
    return [inputs.as_dict(inputs.as_dict(o).get("id")).get("page") for o in outputs]

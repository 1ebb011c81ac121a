"""The page a browser opens arrives inside the app's layout, not from a callback after it.

With Dash pages, ``/_dash-layout`` holds an empty ``dash.page_container``: the renderer mounts
it, its ``dcc.Location`` reports the URL, and the router callback answers with the page's
layout. That is one more round trip, after the renderer has booted, before any component of
the page exists, and only then do the page's lazily loaded bundles (the corpus table's grid)
start to download. Here the layout is built per request: for the page the ``/_dash-layout``
request comes from (its ``Referer``, which browsers send on same-origin requests), the
container already holds that page's layout, built as the router builds it, with the location
props set to that URL so the router does not run again on load. Without a usable ``Referer``
(a strict ``Referrer-Policy``, another host, a path no page matches, a layout that raises) the
container is Dash's own and the router fills it as before.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from dash import _pages, dcc, html
from dash.development.base_component import Component

log = logging.getLogger(__name__)

# The ids of dash.page_container's children (location, content, title store, title sink).
LOCATION, CONTENT, STORE, DUMMY = (child.id for child in dash.page_container.children)


def page_container(app: dash.Dash) -> Component:
    """``dash.page_container`` for the current request: holding the page of the request's
    ``Referer`` when a registered page matches it, else empty (the router fills it)."""
    url = flask.request.referrer if flask.has_request_context() else None
    found = _page_of(app, url) if url else None
    if found is None:
        return dash.page_container
    pathname, search, layout, title = found
    return html.Div(
        [
            dcc.Location(id=LOCATION, refresh="callback-nav", pathname=pathname, search=search),
            html.Div(layout, id=CONTENT, disable_n_clicks=True),
            dcc.Store(id=STORE, data={"title": title}),
            html.Div(id=DUMMY, disable_n_clicks=True),
        ]
    )


def _page_of(app: dash.Dash, url: str) -> tuple[str, str, Any, str] | None:
    """(pathname, search, layout, title) of the page at ``url`` on this host, as Dash's router
    callback would build it; None when no page matches or its layout raises."""
    parts = urlsplit(url)
    if parts.netloc != flask.request.host:
        return None
    # the router's own matching and query parsing (dash._pages is private: the tests check
    # that this layout equals the router callback's answer)
    page, variables = _pages._path_to_page(app.strip_relative_path(parts.path))
    if not page:
        return None
    search = f"?{parts.query}" if parts.query else ""
    arguments = {**(variables or {}), **_pages._parse_query_string(search)}
    try:
        layout = page["layout"](**arguments) if callable(page["layout"]) else page["layout"]
        title = page["title"](**(variables or {})) if callable(page["title"]) else page["title"]
    except Exception:  # the router builds it again and reports the error as for any callback
        log.exception("first page %s: layout failed; the router callback will build it", url)
        return None
    return parts.path, search, layout, title


# Lazily loaded chunks every first page waits for, loaded with the page's scripts instead:
# a chunk run early registers itself with its package's webpack runtime, which then never
# requests it (Dash's ``eager_loading=True`` does this for every chunk of every package,
# AG Grid Enterprise's 3.5 MB and MathJax's 2 MB included).
EAGER_CHUNKS = (
    ("dash_ag_grid", "async-community.js"),  # the corpus table's grid
    ("dash", "dcc/async-dropdown.js"),  # every page's controls
    ("dash", "dcc/async-graph.js"),  # dcc.Graph, which then loads plotly.js
)


def load_chunks_eagerly(app: dash.Dash, chunks: tuple[tuple[str, str], ...] = EAGER_CHUNKS) -> None:
    """Add each (package, chunk file) to the index page's scripts, fingerprinted as every
    component bundle is (so it is cached for good, see ``cache_headers``)."""
    for namespace, path in chunks:
        app.scripts.append_script({"relative_package_path": path, "namespace": namespace})

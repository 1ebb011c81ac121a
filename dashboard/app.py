"""The Dash application: ``create_app(db_url)`` builds it, ``make_server()`` serves it.

Development server: ``attention-atlas serve --db sqlite:///atlas.db`` (or :func:`serve`).
For a reading group, with gunicorn (the database URL from ``ATLAS_DATABASE_URL``)::

    ATLAS_DATABASE_URL=sqlite:////data/atlas.db gunicorn -w 2 -b 0.0.0.0:8050 \
        "dashboard.app:make_server()"

The database is opened read-only (SQLite ``mode=ro``, PostgreSQL read-only transactions). This
module imports no ML library: the dashboard reads the store only. Nothing happens at import.
"""

from __future__ import annotations

import atexit
import importlib
from contextlib import ExitStack
from importlib.resources import as_file, files

import dash
from dash import Input, Output, dcc, html

from dashboard import ids
from dashboard.data import EXTENSION, AtlasData
from dashboard.urlstate import CorpusState

ASSETS_PACKAGE = "dashboard.assets"  # the top-level assets/ folder, mapped in pyproject.toml
_extracted = ExitStack()  # an assets folder as_file had to copy out stays until exit
atexit.register(_extracted.close)
PAGES = ("corpus", "example", "heads", "faithfulness")

_WRITE_URL = """
function(search) {
    if (typeof search !== "string") { return window.dash_clientside.no_update; }
    const url = window.location.pathname + search;
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
    }
    return search;
}
"""

_COPY_LINK = """
function(n) {
    if (!n) { return ""; }
    const href = window.location.href;
    window.atlasCopiedLink = href;
    try { navigator.clipboard.writeText(href); } catch (e) { /* shown below anyway */ }
    return "Link copied: " + href;
}
"""


def _shell() -> html.Div:
    nav = html.Nav(
        [
            html.Span("Attention Atlas", className="brand"),
            dcc.Link("Corpus", href="/", id=ids.NAV_CORPUS, className="nav-link"),
            dcc.Link("Heads", href="/heads", id=ids.NAV_HEADS, className="nav-link"),
            dcc.Link("Faithfulness", href="/faithfulness", id=ids.NAV_FAITH, className="nav-link"),
            html.Button("Copy link", id=ids.COPY_LINK, className="copy-link", n_clicks=0),
            html.Span(id=ids.COPY_STATUS, className="copy-status"),
        ],
        id=ids.NAV,
        className="nav",
    )
    return html.Div(
        [
            dcc.Location(id=ids.NAV_LOCATION, refresh="callback-nav"),
            dcc.Store(id=ids.URL_SINK),
            nav,
            html.Main(dash.page_container, className="main"),
        ],
    )


def nav_hrefs(search: str | None) -> tuple[str, str, str]:
    """Links to the three list pages keeping the current corpus filter."""
    state = CorpusState.parse(search or "")
    keep = state.with_(page=1).to_search()
    return "/" + keep, "/heads" + keep, "/faithfulness" + keep


def create_app(db_url: str | None = None) -> dash.Dash:
    """The dashboard over the store at ``db_url`` (see ``db.engine.resolve_url``)."""
    data = AtlasData(db_url)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(_extracted.enter_context(as_file(files(ASSETS_PACKAGE)))),
        suppress_callback_exceptions=True,
        title="Attention Atlas",
    )
    app.server.extensions[EXTENSION] = data
    app.layout = _shell()
    app.clientside_callback(_WRITE_URL, Output(ids.URL_SINK, "data"), Input(ids.STATE, "data"))
    app.clientside_callback(
        _COPY_LINK, Output(ids.COPY_STATUS, "children"), Input(ids.COPY_LINK, "n_clicks")
    )
    app.callback(
        Output(ids.NAV_CORPUS, "href"),
        Output(ids.NAV_HEADS, "href"),
        Output(ids.NAV_FAITH, "href"),
        Input(ids.STATE, "data"),
    )(nav_hrefs)
    # Pages are imported here, not scanned from a folder: register_page needs an app first.
    for name in PAGES:
        importlib.import_module(f"dashboard.pages.{name}").register_callbacks(app)
    return app


def make_server(db_url: str | None = None):  # noqa: ANN201 - a Flask app
    """WSGI entry point for gunicorn: ``gunicorn "dashboard.app:make_server()"``."""
    return create_app(db_url).server


def serve(db_url: str | None, host: str = "127.0.0.1", port: int = 8050, debug: bool = False):
    """The development server (``attention-atlas serve``)."""
    create_app(db_url).run(host=host, port=port, debug=debug)

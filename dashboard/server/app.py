"""The Dash application: ``create_app(db_url)`` builds it, ``make_server()`` serves it.

``attention-atlas serve`` runs it under gunicorn (:mod:`dashboard.server.production`);
``serve --dev`` (or :func:`serve`) under Flask's development server. Responses are compressed for
clients that ask, static files are cached for good where their URL names their content
(:mod:`.cache_headers`), and the layout is built per request, holding the page the browser
opened (:mod:`.first_page`). For people who bring their own WSGI server, :func:`make_server` is
the factory (the database URL from ``ATLAS_DATABASE_URL``, basic auth from ``ATLAS_AUTH_FILE``
when set)::

    ATLAS_DATABASE_URL=sqlite:////data/atlas.db ATLAS_AUTH_FILE=/data/users \
        gunicorn -w 2 -b 0.0.0.0:8050 "attention_atlas.dashboard.server.app:make_server()"

The database is opened read-only (SQLite ``mode=ro``, PostgreSQL read-only transactions); the
reading group's notes, tags and saved views alone are written, through
``dashboard.data.write_access`` (none with ``read_only``). This module imports no ML library: the
dashboard never touches the model. Nothing happens at import.
"""

from __future__ import annotations

import atexit
import importlib
import pkgutil
from contextlib import ExitStack
from importlib.resources import as_file, files

import dash
import flask
from dash import ALL, Input, Output, dcc, html
from dash.development.base_component import Component

import attention_atlas.dashboard.pages as pages_package
from attention_atlas.dashboard import ids, urls
from attention_atlas.dashboard.data import service, write_access
from attention_atlas.dashboard.reading_group import notes_panel, save_view
from attention_atlas.dashboard.server import cache_headers, errors, first_page
from attention_atlas.dashboard.server.auth import (
    auth_file_from_env,
    read_auth_file,
    require_basic_auth,
)
from attention_atlas.dashboard.server.compression import enable_compression

ASSETS_PACKAGE = (
    "attention_atlas.dashboard.assets"  # the top-level assets/ folder, mapped in pyproject.toml
)
_extracted = ExitStack()  # an assets folder as_file had to copy out stays until exit
atexit.register(_extracted.close)

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


def _shell(read_only: bool = False, container: Component | None = None) -> html.Div:
    """The page frame: nav bar (one link per ``nav`` page of the registry, "Save this view"
    unless ``read_only``) and page container (``dash.page_container`` unless given)."""
    links = [
        dcc.Link(p["name"], href=p["path"], id=ids.nav_link(p["module"]), className="nav-link")
        for p in urls.nav_pages()
    ]
    nav = html.Nav(
        [
            html.Span("Attention Atlas", className="brand"),
            *links,
            None if read_only else save_view.control(),
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
            dcc.Store(id=ids.AUTHOR_STORE, storage_type="local"),
            nav,
            html.Div(id=ids.ERROR_BANNER, className="error-banner", role="alert"),
            html.Main(dash.page_container if container is None else container, className="main"),
        ],
    )


def create_app(db_url: str | None = None, read_only: bool = False) -> dash.Dash:
    """The dashboard over the store at ``db_url`` (see ``db.engine.resolve_url``); with
    ``read_only`` it shows no write control (notes, saved views) and refuses every write."""
    data = service.AtlasData(db_url)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(_extracted.enter_context(as_file(files(ASSETS_PACKAGE)))),
        suppress_callback_exceptions=True,
        title="Attention Atlas",
        on_error=errors.callback_error,  # logged with the request; the page shows a message
    )
    enable_compression(app.server)  # not Dash's compress=True: that one skips gzip for assets
    service.install(app.server, data)
    write_access.install(app.server, db_url, read_only)
    # register_page needs an app first; then the shell is built from the page registry
    pages = [importlib.import_module(name) for name in _page_modules()]
    cache_headers.install(app)  # fingerprinted bundles and assets kept for good
    cache_headers.fingerprint_plotly(app)
    first_page.load_chunks_eagerly(app)
    app.layout = lambda: _shell(read_only, first_page.page_container(app))  # per request
    app.clientside_callback(_WRITE_URL, Output(ids.URL_SINK, "data"), Input(ids.STATE, "data"))
    app.clientside_callback(
        _COPY_LINK, Output(ids.COPY_STATUS, "children"), Input(ids.COPY_LINK, "n_clicks")
    )
    app.callback(Output(ids.nav_link(ALL), "href"), Input(ids.STATE, "data"))(urls.nav_links)
    for page in pages:
        page.register_callbacks(app)
    notes_panel.register_callbacks(app)
    save_view.register_callbacks(app)
    errors.install(app)  # malformed callback requests -> 400; escaped errors -> a kind answer
    return app


def _page_modules() -> list[str]:
    """Every module of ``dashboard.pages``: adding a page is adding one file there."""
    found = pkgutil.iter_modules(pages_package.__path__, pages_package.__name__ + ".")
    return sorted(m.name for m in found)


def make_server(
    db_url: str | None = None, auth_file: str | None = None, read_only: bool = False
) -> flask.Flask:
    """WSGI entry point for your own server:
    ``gunicorn "attention_atlas.dashboard.server.app:make_server()"``.

    With ``auth_file`` (default: ``ATLAS_AUTH_FILE``) every route asks for HTTP basic auth; a
    missing or malformed auth file raises :class:`dashboard.server.auth.AuthFileError`."""
    server = _protected_app(db_url, auth_file, read_only).server
    _finish_setup(server)
    return server


def serve(
    db_url: str | None,
    host: str = "127.0.0.1",
    port: int = 8050,
    debug: bool = False,
    auth_file: str | None = None,
    read_only: bool = False,
) -> None:
    """Flask's development server (``attention-atlas serve --dev``; ``debug``: reloader and
    Dash dev tools), behind basic auth as in :func:`make_server`."""
    app = _protected_app(db_url, auth_file, read_only)
    if not debug:  # debug mode adds handlers in run(), which Flask refuses after a request
        _finish_setup(app.server)
    app.run(host=host, port=port, debug=debug)


def _protected_app(db_url: str | None, auth_file: str | None, read_only: bool = False) -> dash.Dash:
    auth_file = auth_file or auth_file_from_env()
    users = read_auth_file(auth_file) if auth_file else None  # a bad file fails before the app
    app = create_app(db_url, read_only)
    if users:
        require_basic_auth(app.server, users)
    return app


def _finish_setup(server: flask.Flask) -> None:
    """Dash finishes its setup (registering the bundles it may serve) on its first request, and
    a request that another thread serves meanwhile is refused ("not a registered library", 500):
    a threaded server's first page load hits that. One request here, before any thread serves
    (and, under gunicorn's preload, before the workers fork), closes the race. Dash's setup hook
    runs before the auth hook, so a 401 here does the same."""
    server.test_client().get("/_dash-layout")

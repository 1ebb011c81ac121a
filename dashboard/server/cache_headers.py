"""How long a browser may keep the dashboard's static files (``Cache-Control``).

A file whose URL names its content is cached for good (``public, max-age=31536000,
immutable``): a new version comes under a new URL, so a repeat visit asks for nothing. Dash
names its content in three kinds of URL:

- component bundles, ``/_dash-component-suites/PKG/name.v<version>m<file time>.js``
  (``dash.fingerprint``); plotly.js, which dcc.Graph loads itself, is given such a URL too
  (:func:`fingerprint_plotly`, instead of ``.../plotly/package_data/plotly.min.js``);
- our ``/assets`` files, which the index page links as ``/assets/atlas.css?m=<file time>``:
  immutable only while ``m`` is the file's current time (a page from before an edit names an
  older ``m``, and must not keep the new body under it);
- Dash's favicon, ``/_favicon.ico?v=<dash version>``, immutable while ``v`` is that version.

Every other file of those routes (webpack chunks a bundle requests by name, such as
``async-graph.js``; an asset named without ``m``) may change under the same URL when a package
is upgraded or an asset edited, so it is ``no-cache``: kept, and revalidated on each use
(Dash's ETag, Flask's Last-Modified: a 304 with no body). Only 200 answers get a policy: an
error is never cached.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dash
import flask
import plotly
from dash.fingerprint import build_fingerprint, check_fingerprint

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PLOTLY_FILE = "package_data/plotly.min.js"  # where dash serves plotly.js from


def install(app: dash.Dash) -> None:
    """Set ``Cache-Control`` on the static responses of ``app`` (see the module)."""
    prefix = app.config.routes_pathname_prefix
    suites = f"{prefix}_dash-component-suites/"
    assets = f"{prefix}{app.config.assets_url_path.strip('/')}/"
    folder = Path(app.config.assets_folder)

    def set_policy(response: flask.Response) -> flask.Response:
        if response.status_code != 200:
            return response
        path = flask.request.path
        if path.startswith(suites):
            policy = IMMUTABLE if check_fingerprint(path)[1] else REVALIDATE
        elif path.startswith(assets):
            policy = _asset_policy(folder / path[len(assets) :], flask.request.args.get("m"))
        elif path == f"{prefix}_favicon.ico":
            policy = IMMUTABLE if flask.request.args.get("v") == dash.__version__ else REVALIDATE
        else:
            return response
        response.headers["Cache-Control"] = policy
        return response

    app.server.after_request(set_policy)


def _asset_policy(file: Path, m: str | None) -> str:
    """Immutable when ``m`` is ``file``'s modification time as Dash writes it in the index."""
    try:
        current = str(os.stat(file).st_mtime)
    except OSError:
        return REVALIDATE
    return IMMUTABLE if m == current else REVALIDATE


def plotly_url(app: dash.Dash) -> str:
    """The fingerprinted URL of plotly.js (plotly's version and file time in its name), which
    Dash's component-suite route serves as it serves the unfingerprinted one."""
    file = Path(plotly.__file__).parent / PLOTLY_FILE
    name = build_fingerprint(PLOTLY_FILE, plotly.__version__, int(file.stat().st_mtime))
    return f"{app.config.requests_pathname_prefix}_dash-component-suites/plotly/{name}"


def fingerprint_plotly(app: dash.Dash) -> None:
    """Make dcc.Graph load plotly.js from :func:`plotly_url`: the index page names it in
    ``window.atlasPlotlyURL``, which ``assets/plotly_loader.js`` hands to the graph (that
    script also holds plotly.js back until the page's first render is done)."""
    script = f"<script>window.atlasPlotlyURL = {json.dumps(plotly_url(app))};</script>"
    app.index_string = app.index_string.replace("{%css%}", "{%css%}\n" + script, 1)

"""What the dashboard answers to malformed requests and to its own bugs: never a traceback.

Callback *values* are the callbacks' business (they parse them with ``dashboard.inputs``);
this module guards the rest:

- :func:`callback_request_problem` checks the *shape* of a ``/_dash-update-component`` body
  against ``app.callback_map`` before Dash reads it: the output names a server-side callback,
  inputs and state have its arity, ids and properties, a location's pathname is a path. Dash
  fails with a traceback on a body of another shape; the guard answers 400 and logs one line.
- :func:`callback_error` is Dash's global ``on_error``: an exception inside a callback is logged
  with the request (path, page, callback output id) and its traceback, and the page shows a
  short message in the shell's banner (``ids.ERROR_BANNER``); the outputs keep their values.
- :func:`install` adds both to an app, plus a Flask error handler: anything that still escapes
  a route is logged the same way and answered with a friendly page or JSON message.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import dash
import flask
from werkzeug.exceptions import HTTPException

from attention_atlas.dashboard import ids

log = logging.getLogger(__name__)

CALLBACK_ROUTE = "_dash-update-component"
MESSAGE = "Something went wrong on the server and it was logged. Try another view or reload."
PAGE = (
    "<!doctype html><title>Attention Atlas: error</title><h2>Something went wrong</h2>"
    "<p>The server could not show this page; the error was logged. "
    '<a href="{home}">Back to the corpus</a></p>'
)
LOCATION_PROPS = ("pathname", "search", "hash", "href")  # dcc.Location sends strings
MULTI_WILDCARDS = (["ALL"], ["ALLSMALLER"])  # a pattern input of these arrives as a list


def callback_request_problem(
    body: Any, callback_map: Mapping[str, dict], prefix: str = "/"
) -> str | None:
    """Why ``body`` is not a request the renderer could have sent (None when it could be).
    ``prefix``: the app's ``requests_pathname_prefix``, which every pathname starts with."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    cb = callback_map.get(output) if isinstance(output, str) else None
    if cb is None or "callback" not in cb:  # client-side callbacks have no Python function
        return "no server-side callback has this output"
    for part in ("inputs", "state"):
        problem = _deps_problem(part, body.get(part, []), cb[part], prefix)
        if problem:
            return problem
    multi = isinstance(cb["output"], list)
    outs = cb["output"] if multi else [cb["output"]]
    specs = [{"id": o.component_id_str(), "property": o.component_property} for o in outs]
    sent = body.get("outputs") if multi else [body.get("outputs")]
    if not _all_match(sent, specs):
        return "outputs do not match the callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds is not a list of strings"
    return None


def _deps_problem(part: str, sent: Any, specs: list[dict], prefix: str) -> str | None:
    if not _all_match(sent, specs):
        return f"{part} do not match the callback's {len(specs)}"
    for item, spec in zip(sent, specs, strict=True):
        if isinstance(item, dict) and not _location_ok(spec["property"], item.get("value"), prefix):
            return f"{part}: {spec['id']}.{spec['property']} is not a location string"
    return None


def _all_match(sent: Any, specs: list[dict]) -> bool:
    return (
        isinstance(sent, list)
        and len(sent) == len(specs)
        and all(_matches(item, spec) for item, spec in zip(sent, specs, strict=True))
    )


def _location_ok(prop: str, value: Any, prefix: str) -> bool:
    if prop == "pathname":  # Dash's page router strips the prefix and fails without it
        return isinstance(value, str) and value.startswith(prefix.rstrip("/") or "/")
    return prop not in LOCATION_PROPS or value is None or isinstance(value, str)


def _prop(item: dict) -> str | None:
    prop = item.get("property")
    return prop.split("@")[0] if isinstance(prop, str) else None  # output@hash: duplicates


def _matches(item: Any, spec: dict) -> bool:
    """Does one sent dependency (``{"id", "property", "value"}``) match the spec's?"""
    spec_id, prop = spec["id"], spec["property"]
    if not spec_id.startswith("{"):
        return isinstance(item, dict) and item.get("id") == spec_id and _prop(item) == prop
    pattern = json.loads(spec_id)  # a pattern-matching id, wildcards as ["ALL"]
    if any(v in MULTI_WILDCARDS for v in pattern.values()):
        return isinstance(item, list) and all(_concrete(i, pattern, prop) for i in item)
    return _concrete(item, pattern, prop)


def _concrete(item: Any, pattern: dict, prop: str) -> bool:
    if not isinstance(item, dict) or _prop(item) != prop:
        return False
    cid = item.get("id")
    if not isinstance(cid, dict) or cid.keys() != pattern.keys():
        return False
    return all(
        isinstance(cid[k], str | int | float) if isinstance(v, list) else cid[k] == v
        for k, v in pattern.items()
    )


def _request() -> str:
    request = flask.request
    return f"{request.method} {request.path} (page {request.referrer or '-'})"


def callback_error(err: Exception) -> None:
    """Dash's ``on_error``: log the failing callback with its request, tell the page."""
    body = flask.request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    log.error("callback %s failed on %s", output, _request(), exc_info=err)
    dash.set_props(ids.ERROR_BANNER, {"children": MESSAGE})
    return None  # every output: no update


def install(app: dash.Dash) -> None:
    """Guard ``app``'s callback route and answer what still escapes a route kindly."""
    server = app.server
    route = app.config.routes_pathname_prefix + CALLBACK_ROUTE
    prefix = app.config.requests_pathname_prefix
    endpoint = next(r.endpoint for r in server.url_map.iter_rules() if r.rule == route)
    server.view_functions[endpoint] = _guarded(server.view_functions[endpoint], app, prefix)

    def unexpected(err: Exception) -> Any:
        if isinstance(err, HTTPException):  # 404, 405, ...: as werkzeug answers them
            return err
        log.error("unhandled error on %s", _request(), exc_info=err)
        if flask.request.path == route:
            return flask.jsonify(error=MESSAGE), 500
        return PAGE.format(home=prefix), 500, {"Content-Type": "text/html; charset=utf-8"}

    server.register_error_handler(Exception, unexpected)


def _guarded(dispatch: Callable, app: dash.Dash, prefix: str) -> Callable:
    """Dash's callback view, behind :func:`callback_request_problem` (runs after every
    ``before_request`` hook, so authentication answers first)."""

    @functools.wraps(dispatch)
    def view(*args: Any, **kwargs: Any) -> Any:
        try:
            body = flask.request.get_json(silent=True)
        except RecursionError:  # deeply nested JSON: json raises this, not a ValueError
            body = None
        problem = callback_request_problem(body, app.callback_map, prefix)
        if problem is not None:
            log.info("refused a callback request on %s: %s", _request(), problem)
            return flask.jsonify(error="malformed callback request"), 400
        return dispatch(*args, **kwargs)

    return view

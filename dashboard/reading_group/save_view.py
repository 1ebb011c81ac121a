""" "Save this view" in the nav bar: a name, a description and the page's current address.

The address is read in the browser when the button is pressed (``window.location``: path and
query, which the pages keep canonical), so any page's view can be saved; the server stores it
through ``dashboard.data.write_access`` (``db.notes``), which refuses a name in use and any
address that is not a dashboard path. A read-only dashboard leaves the control out (and the
callback refuses).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html, no_update

from attention_atlas.dashboard import ids, inputs, urls
from attention_atlas.dashboard.data import write_access
from attention_atlas.dashboard.reading_group.author import register_field
from attention_atlas.db import notes

_READ_URL = """
function(n) {
    if (!n) { return window.dash_clientside.no_update; }
    return {"url": window.location.pathname + window.location.search, "n": n};
}
"""


def control() -> html.Details:
    """The folded form (a ``<details>``: opening it needs no server round trip)."""
    return html.Details(
        [
            html.Summary("Save this view", id=ids.SAVE_VIEW),
            html.Div(
                [
                    dcc.Input(
                        id=ids.SAVE_VIEW_NAME,
                        placeholder="name (unique)",
                        maxLength=notes.MAX_VIEW_NAME,
                        type="text",
                    ),
                    dcc.Textarea(id=ids.SAVE_VIEW_DESCRIPTION, placeholder="why this view matters"),
                    dcc.Input(
                        id=ids.SAVE_VIEW_AUTHOR,
                        placeholder="your name",
                        maxLength=notes.MAX_AUTHOR,
                        debounce=True,
                        type="text",
                    ),
                    html.Button("Save", id=ids.SAVE_VIEW_SUBMIT, n_clicks=0),
                    dcc.Store(id=ids.SAVE_VIEW_URL),
                    html.Div(
                        id=ids.SAVE_VIEW_MESSAGE, className="save-view-message", role="status"
                    ),
                ],
                id=ids.SAVE_VIEW_FORM,
                className="save-view-form",
            ),
        ],
        className="save-view",
    )


def save(event: Any, name: Any, description: Any, author: Any) -> tuple:
    """The address read in the browser -> a saved view: message, name and description."""
    if not inputs.as_dict(event):
        return no_update, no_update, no_update
    url = inputs.as_dict(event).get("url")
    try:
        saved = write_access.writer().save_view(
            inputs.as_str(name),
            inputs.as_str(description),
            inputs.as_str(url),
            inputs.as_str(author),
        )
    except write_access.WRITE_ERRORS as exc:
        return write_access.failure(exc), no_update, no_update
    link = dcc.Link(f"Saved as “{saved.name}”: see all views", href=urls.page("views"))
    return link, "", ""


def register_callbacks(app: dash.Dash) -> None:
    app.clientside_callback(
        _READ_URL,
        Output(ids.SAVE_VIEW_URL, "data"),
        Input(ids.SAVE_VIEW_SUBMIT, "n_clicks"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.SAVE_VIEW_MESSAGE, "children"),
        Output(ids.SAVE_VIEW_NAME, "value"),
        Output(ids.SAVE_VIEW_DESCRIPTION, "value"),
        Input(ids.SAVE_VIEW_URL, "data"),
        State(ids.SAVE_VIEW_NAME, "value"),
        State(ids.SAVE_VIEW_DESCRIPTION, "value"),
        State(ids.SAVE_VIEW_AUTHOR, "value"),
        prevent_initial_call=True,
    )(save)
    register_field(app, ids.SAVE_VIEW_AUTHOR)

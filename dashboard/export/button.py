"""The example page's "Export" button: downloads the example as the standalone HTML file of
``attention-atlas export --format html`` (:mod:`dashboard.export.standalone`), with the page's
current layer, head and head-grid reference."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from attention_atlas.dashboard import ids, inputs
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.export.standalone import export_options, load_export, standalone_html
from attention_atlas.dashboard.urlstate import ExampleState


def export_button() -> html.Div:
    return html.Div(
        [
            html.Button(
                "Export",
                id=ids.EX_EXPORT,
                n_clicks=0,
                className="export-button",
                title="Download this example as one HTML file that opens offline (for slides)",
            ),
            dcc.Download(id=ids.EX_EXPORT_DOWNLOAD),
        ],
        className="export-bar",
    )


def download_html(n_clicks: Any, example_id: Any, search: Any) -> dict:
    """The Export button -> the example's standalone HTML as a download."""
    number = inputs.as_int(example_id, 1)
    if not inputs.as_int(n_clicks, 1) or number is None:
        raise PreventUpdate
    state = ExampleState.parse(inputs.as_search(search))
    with service().session() as session:
        export = load_export(session, number)
    if export is None:
        raise PreventUpdate
    detail = export.detail
    layer = state.layer if state.layer is not None and state.layer < detail.num_layers else None
    head = state.head if state.head is not None and state.head < detail.num_heads else None
    options = export_options(export, None, layer, head, state.ref)
    return dcc.send_string(standalone_html(export, options), f"atlas-example-{number}.html")


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.EX_EXPORT_DOWNLOAD, "data"),
        Input(ids.EX_EXPORT, "n_clicks"),
        State(ids.EX_ID, "data"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )(download_html)

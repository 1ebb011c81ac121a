"""The reader's name, remembered in the browser (the shell's ``dcc.Store(storage_type="local")``)
and shown in every author field (notes panel, "Save this view"); typing it in one remembers it.

Each direction answers ``no_update`` when nothing changes, so the store and a field never
ping-pong: the store's new value reaches the field once and stops there.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, NoUpdate, Output, State, no_update

from attention_atlas.dashboard import ids, inputs
from attention_atlas.db import notes


def _name(value: Any) -> str:
    return inputs.as_str(value, limit=notes.MAX_AUTHOR).strip()


def restore(_stamp: Any, stored: Any, shown: Any) -> str | NoUpdate:
    """The remembered name into an author field (unless it is there already)."""
    name = _name(stored)
    return name if name and name != shown else no_update


def remember(typed: Any, stored: Any) -> str | NoUpdate:
    """A typed name into the browser's store (the next page and the next visit know it)."""
    name = _name(typed)
    return name if name and name != stored else no_update


def register_field(app: dash.Dash, field_id: str) -> None:
    """Keep the author field ``field_id`` and the remembered name in step."""
    app.callback(
        Output(field_id, "value"),
        Input(ids.AUTHOR_STORE, "modified_timestamp"),
        State(ids.AUTHOR_STORE, "data"),
        State(field_id, "value"),
    )(restore)
    app.callback(
        Output(ids.AUTHOR_STORE, "data", allow_duplicate=True),
        Input(field_id, "value"),
        State(ids.AUTHOR_STORE, "data"),
        prevent_initial_call=True,
    )(remember)

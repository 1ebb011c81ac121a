"""The example page's notes panel: readers' Markdown notes with tags, added, edited and deleted.

:func:`panel` is the layout (the page places it); :func:`register_callbacks` wires it (the app
does). Notes are read through the data service (read-only) and written through
``dashboard.data.write_access`` (``db.notes``). The author's name lives in the browser (the shell's
``dcc.Store(storage_type="local")``); editing and deleting need the note's author name, as
``db.notes`` checks. Markdown is rendered by ``dcc.Markdown`` without raw HTML: a ``<script>``
in a note shows as text. A read-only dashboard shows the notes and no controls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from attention_atlas.dashboard import ids, inputs, urls
from attention_atlas.dashboard.data import write_access
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.reading_group.author import register_field
from attention_atlas.dashboard.urlstate import ExampleState
from attention_atlas.db import notes
from attention_atlas.db.notes import NoteInfo

NOTES_EXAMPLE = "notes-example"  # the example id the panel belongs to


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def note_card(note: NoteInfo, own: bool) -> html.Div:
    """One note: author, times, tags, the Markdown (no raw HTML), Edit / Delete when ``own``."""
    stamp = when(note.created_at) + (f", edited {when(note.edited_at)}" if note.edited_at else "")
    head = [html.Strong(note.author, className="note-author"), html.Span(stamp, className="when")]
    if own:
        head += [
            html.Button("Edit", id={"type": ids.NOTE_EDIT, "note": note.id}, n_clicks=0),
            html.Button("Delete", id={"type": ids.NOTE_DELETE, "note": note.id}, n_clicks=0),
        ]
    tags = [html.Span(t, className="note-tag") for t in note.tags]
    return html.Div(
        [
            html.Div(head, className="note-head"),
            html.Div(tags, className="note-tags"),
            dcc.Markdown(note.body, dangerously_allow_html=False, className="note-body"),
        ],
        className="note",
    )


def note_list(example_id: int | None, author: str, writable: bool) -> list:
    if example_id is None:
        return []
    found = service().notes_of_example(example_id)
    if not found:
        return [html.P("No notes on this example yet.", className="hint")]
    return [note_card(n, writable and bool(author) and n.author == author) for n in found]


def _form() -> html.Div:
    return html.Div(
        [
            dcc.Input(
                id=ids.NOTES_AUTHOR,
                placeholder="your name",
                maxLength=notes.MAX_AUTHOR,
                debounce=True,
                type="text",
            ),
            dcc.Textarea(
                id=ids.NOTES_BODY,
                placeholder="Why does this example matter? (Markdown)",
                className="notes-body",
            ),
            dcc.Input(
                id=ids.NOTES_TAGS,
                placeholder="tags, comma-separated: negation, sink-head",
                type="text",
                className="notes-tags",
            ),
            html.Button("Add note", id=ids.NOTES_SUBMIT, n_clicks=0),
            html.Button("Cancel", id=ids.NOTES_CANCEL, n_clicks=0, style={"display": "none"}),
            html.Div(id=ids.NOTES_MESSAGE, className="notes-message", role="status"),
        ],
        className="notes-form",
    )


def panel(example_id: int) -> html.Div:
    """The panel of one example (its notes, and the form unless the dashboard is read-only)."""
    writable = not write_access.read_only()
    return html.Div(
        [
            html.H3("Notes"),
            dcc.Store(id=NOTES_EXAMPLE, data=example_id),
            dcc.Store(id=ids.NOTES_EDITING, data=None),
            dcc.Store(id=ids.NOTES_CHANGED, data=0),
            html.Div(note_list(example_id, "", writable), id=ids.NOTES_LIST),
            _form() if writable else None,
        ],
        id=ids.NOTES,
        className="notes-panel",
    )


# -- callbacks ----------------------------------------------------------------------------
def show_notes(_changed: Any, author: Any, example_id: Any) -> list:
    """Re-read the notes after a write, or when the author changes (whose notes are own)."""
    return note_list(inputs.as_int(example_id, 1), _author(author), not write_access.read_only())


def _author(value: Any) -> str:
    return inputs.as_str(value, limit=notes.MAX_AUTHOR).strip()


def submit(
    _n: Any, example_id: Any, author: Any, body: Any, tags: Any, editing: Any, search: Any, n: Any
) -> tuple:
    """Add a note (or save the edited one): message, body, tags, editing, changed counter."""
    if not _n:
        return (no_update,) * 5
    number = inputs.as_int(example_id, 1)
    if number is None:
        return "No example is open.", no_update, no_update, no_update, no_update
    view = urls.example(number, ExampleState.parse(inputs.as_search(search)).to_search())
    text, labels, name = inputs.as_str(body), inputs.as_str(tags), inputs.as_str(author)
    try:
        store = write_access.writer()
        if inputs.as_int(editing, 1) is not None:
            store.edit_note(inputs.as_int(editing, 1), name, text, labels)
            done = "Note saved."
        else:
            store.add_note(number, name, text, labels, view)
            done = "Note added."
    except write_access.WRITE_ERRORS as exc:
        return write_access.failure(exc), no_update, no_update, no_update, no_update
    return done, "", "", None, (inputs.as_int(n) or 0) + 1


def _clicked(kind: str) -> int | None:
    """The note id of the pattern button ``kind`` that fired, when it was really clicked."""
    try:
        trigger = inputs.as_dict(ctx.triggered_id)
        clicked = ctx.triggered[0].get("value") if ctx.triggered else None
    except (dash.exceptions.MissingCallbackContextException, AttributeError, TypeError):
        return None
    if trigger.get("type") != kind or not inputs.as_int(clicked, 1):
        return None
    return inputs.as_int(trigger.get("note"), 1)


def start_edit(_clicks: Any, author: Any) -> tuple:
    """Edit: the note's body and tags into the form (own notes only)."""
    note_id = _clicked(ids.NOTE_EDIT)
    if note_id is None or write_access.read_only():
        return (no_update,) * 4
    note = service().note(note_id)
    if note is None or note.author != _author(author):
        return no_update, no_update, no_update, "You can edit your own notes only."
    return (
        note.body,
        ", ".join(note.tags),
        note.id,
        f"Editing your note of {when(note.created_at)}.",
    )


def delete_note(_clicks: Any, author: Any, n: Any) -> tuple:
    """Delete: message and changed counter."""
    note_id = _clicked(ids.NOTE_DELETE)
    if note_id is None:
        return no_update, no_update
    try:
        write_access.writer().delete_note(note_id, inputs.as_str(author))
    except write_access.WRITE_ERRORS as exc:
        return write_access.failure(exc), no_update
    return "Note deleted.", (inputs.as_int(n) or 0) + 1


def cancel_edit(_n: Any) -> tuple:
    return None, "", "", ""


def form_mode(editing: Any) -> tuple:
    """The submit button's label and the Cancel button's visibility."""
    if inputs.as_int(editing, 1) is None:
        return "Add note", {"display": "none"}
    return "Save changes", {}


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.NOTES_LIST, "children"),
        Input(ids.NOTES_CHANGED, "data"),
        Input(ids.AUTHOR_STORE, "data"),
        State(NOTES_EXAMPLE, "data"),
    )(show_notes)
    register_field(app, ids.NOTES_AUTHOR)
    app.callback(
        Output(ids.NOTES_MESSAGE, "children"),
        Output(ids.NOTES_BODY, "value"),
        Output(ids.NOTES_TAGS, "value"),
        Output(ids.NOTES_EDITING, "data"),
        Output(ids.NOTES_CHANGED, "data"),
        Input(ids.NOTES_SUBMIT, "n_clicks"),
        State(NOTES_EXAMPLE, "data"),
        State(ids.NOTES_AUTHOR, "value"),
        State(ids.NOTES_BODY, "value"),
        State(ids.NOTES_TAGS, "value"),
        State(ids.NOTES_EDITING, "data"),
        State(ids.STATE, "data"),
        State(ids.NOTES_CHANGED, "data"),
        prevent_initial_call=True,
    )(submit)
    app.callback(
        Output(ids.NOTES_BODY, "value", allow_duplicate=True),
        Output(ids.NOTES_TAGS, "value", allow_duplicate=True),
        Output(ids.NOTES_EDITING, "data", allow_duplicate=True),
        Output(ids.NOTES_MESSAGE, "children", allow_duplicate=True),
        Input({"type": ids.NOTE_EDIT, "note": ALL}, "n_clicks"),
        State(ids.NOTES_AUTHOR, "value"),
        prevent_initial_call=True,
    )(start_edit)
    app.callback(
        Output(ids.NOTES_MESSAGE, "children", allow_duplicate=True),
        Output(ids.NOTES_CHANGED, "data", allow_duplicate=True),
        Input({"type": ids.NOTE_DELETE, "note": ALL}, "n_clicks"),
        State(ids.NOTES_AUTHOR, "value"),
        State(ids.NOTES_CHANGED, "data"),
        prevent_initial_call=True,
    )(delete_note)
    app.callback(
        Output(ids.NOTES_EDITING, "data", allow_duplicate=True),
        Output(ids.NOTES_BODY, "value", allow_duplicate=True),
        Output(ids.NOTES_TAGS, "value", allow_duplicate=True),
        Output(ids.NOTES_MESSAGE, "children", allow_duplicate=True),
        Input(ids.NOTES_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )(cancel_edit)
    app.callback(
        Output(ids.NOTES_SUBMIT, "children"),
        Output(ids.NOTES_CANCEL, "style"),
        Input(ids.NOTES_EDITING, "data"),
    )(form_mode)

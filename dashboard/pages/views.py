"""Views page ``/views``: the reading group's saved views and latest notes, each a link.

A saved view's link is its stored address (path and query), so it opens exactly the state it
was saved in; a note links to the view it was written from (or its example). Read-only: saving
happens in the nav bar ("Save this view"), notes on the example page.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from attention_atlas.dashboard import ids, urls
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.reading_group.notes_panel import when
from attention_atlas.db.notes import NoteInfo, ViewInfo

LATEST_NOTES = 50
EXCERPT = 200


def view_row(view: ViewInfo) -> html.Li:
    return html.Li(
        [
            dcc.Link(view.name, href=view.url, className="view-link"),
            html.Span(f" · {view.author} · {when(view.created_at)}", className="when"),
            html.Div(view.description, className="view-description") if view.description else None,
            html.Code(view.url, className="view-url"),
        ],
        className="saved-view",
    )


def note_row(note: NoteInfo) -> html.Li:
    text = note.body if len(note.body) <= EXCERPT else note.body[:EXCERPT] + "…"
    return html.Li(
        [
            dcc.Link(f"Example {note.example_id}", href=note.view or urls.example(note.example_id)),
            html.Span(f" · {note.author} · {when(note.created_at)}", className="when"),
            html.Span(
                [html.Span(t, className="note-tag") for t in note.tags], className="note-tags"
            ),
            html.Div(text, className="note-excerpt"),
        ],
        className="latest-note",
    )


def layout(**_query: Any) -> html.Div:
    data = service()
    views, latest = data.saved_views(), data.latest_notes(LATEST_NOTES)
    return html.Div(
        [
            html.H2("Saved views", className="page-title"),
            html.Ul([view_row(v) for v in views], id=ids.VIEWS_LIST)
            if views
            else html.P(
                "No saved views yet: open a page, set it up, and use “Save this view” above.",
                id=ids.VIEWS_LIST,
                className="hint",
            ),
            html.H2("Latest notes"),
            html.Ul([note_row(n) for n in latest])
            if latest
            else html.P("No notes yet: add one on an example's page.", className="hint"),
        ]
    )


def register_callbacks(app: dash.Dash) -> None:
    """No callbacks: the page is links only."""


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__, path="/views", title="Attention Atlas: views", name="Views", nav=9, layout=layout
)

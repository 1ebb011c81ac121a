"""Whether this dashboard may write (notes, tags, saved views), and the writer when it may.

``create_app(db_url, read_only=...)`` calls :func:`install`. The writer (``db.notes``) opens its
own engine lazily, on the first write, so a dashboard over a read-only file starts as before and
only a write attempt reports that the store cannot be written. With ``serve --read-only`` there
is no writer at all: pages leave the write controls out and :func:`writer` refuses, so a
request crafted by hand cannot write either.
"""

from __future__ import annotations

import threading

import flask
from sqlalchemy.exc import SQLAlchemyError

from attention_atlas.db.engine import DatabaseUrlError, resolve_url
from attention_atlas.db.notes import NoteError, NotesWriter

EXTENSION = "attention_atlas_writer"
READ_ONLY_MESSAGE = "This dashboard is read-only: notes and saved views cannot be written here."


class _LazyWriter:
    """One :class:`NotesWriter` per app, opened on first use (thread-safe)."""

    def __init__(self, db_url: str | None) -> None:
        self.db_url = db_url
        self._writer: NotesWriter | None = None
        self._lock = threading.Lock()

    def get(self) -> NotesWriter:
        with self._lock:
            if self._writer is None:
                try:
                    self._writer = NotesWriter(resolve_url(self.db_url))
                except DatabaseUrlError as exc:
                    raise NoteError(f"the store cannot be written: {exc}") from exc
            return self._writer


def install(server: flask.Flask, db_url: str | None, read_only: bool) -> None:
    server.extensions[EXTENSION] = None if read_only else _LazyWriter(db_url)


def read_only() -> bool:
    """True when the app handling this request was started read-only."""
    return flask.current_app.extensions.get(EXTENSION) is None


def writer() -> NotesWriter:
    """The writer of this app; :class:`NoteError` (shown to the user) when read-only."""
    lazy = flask.current_app.extensions.get(EXTENSION)
    if lazy is None:
        raise NoteError(READ_ONLY_MESSAGE)
    return lazy.get()


WRITE_ERRORS = (NoteError, SQLAlchemyError)  # what a write may raise that the page explains


def failure(exc: Exception) -> str:
    """The message a page shows for a failed write: the validation message, or one line on
    why the database refused (locked past the busy timeout, read-only file); the transaction
    was rolled back, so nothing is half-written."""
    if isinstance(exc, NoteError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return f"The store refused the change ({reason}); nothing was written. Try again."
    return "The change could not be written."

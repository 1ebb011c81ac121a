"""The reading group's layer: notes (Markdown, tags) on examples and saved views.

:class:`NotesWriter` is the only code that writes from the dashboard, and it writes only the
``notes``, ``note_tags`` and ``saved_views`` tables, each change in one short transaction on its
own engine (the dashboard's engine stays read-only). On SQLite a write transaction starts with
``BEGIN IMMEDIATE``: it waits for ingest's batch (busy timeout) instead of failing when a
snapshot it read is overtaken by a concurrent writer. Every value is validated before anything
is written; a bad one raises :class:`NoteError`, whose message is meant for the user.

The read functions take a ``Session`` (the dashboard's read-only one, or the CLI's) and return
frozen dataclasses; ORM objects never leave this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Engine, delete, event, insert, select
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.models.schema import Example, Note, NoteTag, Run, SavedView

MAX_AUTHOR = 80
MAX_BODY = 20_000
MAX_TAG = 40
MAX_TAGS = 10
MAX_VIEW_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_URL = 2_000
TAG_PATTERN = re.compile(r"[a-z0-9_-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class NoteError(ValueError):
    """A note, tag or view the store refuses; ``str()`` is a message for the user."""


@dataclass(frozen=True)
class NoteInfo:
    id: int
    example_id: int
    author: str
    body: str  # Markdown, shown without raw HTML
    view: str  # the page (path and query) it was written from
    created_at: datetime  # UTC
    edited_at: datetime | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ViewInfo:
    id: int
    name: str
    description: str
    url: str  # path and query of a dashboard page
    author: str
    created_at: datetime  # UTC


# -- validation -----------------------------------------------------------------------------
def _text(value: object, what: str, limit: int, *, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise NoteError(f"{what} must be text")
    value = _CONTROL.sub("", value.encode("utf-8", "replace").decode("utf-8")).strip()
    if required and not value:
        raise NoteError(f"{what} is empty")
    if len(value) > limit:
        raise NoteError(f"{what} is {len(value):,} characters long; at most {limit:,}")
    return value


def clean_author(value: object) -> str:
    """The author's name: non-empty, one line, at most :data:`MAX_AUTHOR` characters."""
    author = _text(value, "the author name", MAX_AUTHOR)
    if "\n" in author or "\r" in author:
        raise NoteError("the author name must be one line")
    return author


def clean_body(value: object) -> str:
    """A note's Markdown: non-empty, at most :data:`MAX_BODY` characters."""
    return _text(value, "the note", MAX_BODY)


def clean_tag(value: object) -> str:
    """One tag, lower-cased: letters a-z, digits, ``-`` and ``_``, at most 40 characters."""
    tag = value.strip().lower() if isinstance(value, str) else ""
    shown = tag if len(tag) <= 50 else tag[:50] + "…"
    if not tag:
        raise NoteError("a tag is empty")
    if any(c.isspace() for c in tag):
        raise NoteError(f"tag {shown!r} has spaces: use - or _ between words")
    if len(tag) > MAX_TAG:
        raise NoteError(f"tag {shown!r} is {len(tag)} characters long; at most {MAX_TAG}")
    if not TAG_PATTERN.fullmatch(tag):
        raise NoteError(f"tag {shown!r} may hold only letters a-z, digits, - and _")
    return tag


def clean_tags(value: object) -> tuple[str, ...]:
    """Tags from ``"negation, sink-head"`` (commas separate) or a list; sorted, unique."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = [t for t in value.split(",") if t.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise NoteError("tags must be text")
    tags = tuple(sorted({clean_tag(t) for t in items}))
    if len(tags) > MAX_TAGS:
        raise NoteError(f"{len(tags)} tags; at most {MAX_TAGS} per note")
    return tags


def clean_url(value: object) -> str:
    """A dashboard page as path and query (``/example/3?layer=1``): it must start with one
    ``/``, so a stored link never leads off the dashboard (``//host``, ``javascript:``)."""
    url = _text(value, "the view's address", MAX_URL)
    if not url.startswith("/") or url.startswith("//") or "\\" in url or "\n" in url:
        raise NoteError("the view's address must be a dashboard path such as /example/3?layer=1")
    return url


# -- writing --------------------------------------------------------------------------------
def _immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _no_autobegin(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event emits the BEGIN


def writing_engine(db_url: str) -> Engine:
    """An engine that may write (the notes tables only, by this module's choice)."""
    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _no_autobegin)
        event.listen(engine, "begin", _immediate)
        engine.dispose()  # the checked connection predates the hooks
    return engine


class NotesWriter:
    """Adds, edits and deletes notes and saves views in short transactions on ``db_url``."""

    def __init__(self, db_url: str) -> None:
        self.engine = writing_engine(db_url)
        self._sessions = session_factory(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def add_note(
        self, example_id: object, author: object, body: object, tags: object = (), view: object = ""
    ) -> NoteInfo:
        """Store a new note on ``example_id`` (which must exist) with its tags."""
        number = _example_id(example_id)
        author, body, tags = clean_author(author), clean_body(body), clean_tags(tags)
        view = clean_url(view) if view else ""
        with self._transaction() as session:
            if session.scalar(select(Example.id).where(Example.id == number)) is None:
                raise NoteError(f"there is no example {number} in this database")
            note = Note(example_id=number, author=author, body=body, view=view)
            note.tags = [NoteTag(tag=t) for t in tags]
            session.add(note)
            session.flush()
            return _note_info(note)

    def edit_note(self, note_id: object, author: object, body: object, tags: object) -> NoteInfo:
        """Replace the body and tags of the note ``note_id``, written by ``author``."""
        author, body, tags = clean_author(author), clean_body(body), clean_tags(tags)
        with self._transaction() as session:
            note = _own_note(session, note_id, author)
            note.body = body
            note.edited_at = _utcnow()
            # Core statements, not the collection: re-adding a kept tag would be a new object
            # with the primary key of one the unit of work is about to delete
            session.execute(delete(NoteTag).where(NoteTag.note_id == note.id))
            if tags:
                session.execute(insert(NoteTag), [{"note_id": note.id, "tag": t} for t in tags])
            session.flush()
            return _note_info(note, tags)

    def delete_note(self, note_id: object, author: object) -> None:
        """Delete the note ``note_id``, written by ``author`` (its tags go with it)."""
        author = clean_author(author)
        with self._transaction() as session:
            note = _own_note(session, note_id, author)
            session.delete(note)  # its tags go with it (cascade)

    def save_view(self, name: object, description: object, url: object, author: object) -> ViewInfo:
        """Store a named view; a name in use is refused (:class:`NoteError`)."""
        name = _text(name, "the view name", MAX_VIEW_NAME)
        description = _text(description, "the description", MAX_DESCRIPTION, required=False)
        url, author = clean_url(url), clean_author(author)
        taken = NoteError(f"a view named {name!r} exists already: choose another name")
        try:
            with self._transaction() as session:
                if session.scalar(select(SavedView.id).where(SavedView.name == name)):
                    raise taken
                view = SavedView(name=name, description=description, url=url, author=author)
                session.add(view)
                session.flush()
                return _view_info(view)
        except IntegrityError as exc:  # the same name saved at the same moment elsewhere
            raise taken from exc


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _example_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NoteError("no example is open")
    try:
        number = int(value)
    except ValueError:
        raise NoteError("no example is open") from None
    if not 1 <= number < 2**63:
        raise NoteError(f"there is no example {number} in this database")
    return number


def _own_note(session: Session, note_id: object, author: str) -> Note:
    number = _example_id(note_id) if isinstance(note_id, int | str) else None
    note = session.get(Note, number) if number is not None else None
    if note is None:
        raise NoteError("that note does not exist (any more)")
    if note.author != author:
        raise NoteError(f"only {note.author} can change this note")
    return note


def _note_info(note: Note, tags: tuple[str, ...] | None = None) -> NoteInfo:
    return NoteInfo(
        id=note.id,
        example_id=note.example_id,
        author=note.author,
        body=note.body,
        view=note.view,
        created_at=note.created_at,
        edited_at=note.edited_at,
        tags=tuple(sorted(t.tag for t in note.tags)) if tags is None else tags,
    )


def _view_info(view: SavedView) -> ViewInfo:
    return ViewInfo(view.id, view.name, view.description, view.url, view.author, view.created_at)


# -- reading --------------------------------------------------------------------------------
def notes_of_example(session: Session, example_id: int) -> list[NoteInfo]:
    """The notes of one example, oldest first."""
    stmt = select(Note).where(Note.example_id == example_id).order_by(Note.id)
    return [_note_info(n) for n in session.scalars(stmt)]


def get_note(session: Session, note_id: int) -> NoteInfo | None:
    note = session.get(Note, note_id)
    return _note_info(note) if note is not None else None


def all_notes(session: Session, limit: int | None = None) -> list[NoteInfo]:
    """Every note, newest first (the ``limit`` newest when given)."""
    stmt = select(Note).order_by(Note.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_note_info(n) for n in session.scalars(stmt)]


def list_views(session: Session) -> list[ViewInfo]:
    """Every saved view, newest first."""
    stmt = select(SavedView).order_by(SavedView.id.desc())
    return [_view_info(v) for v in session.scalars(stmt)]


def example_ids_with_tag(session: Session, run_id: int, tag: str) -> np.ndarray:
    """Sorted ids ([n] int64) of the run's examples that a note tags with ``tag``."""
    stmt = (
        select(Note.example_id)
        .join(NoteTag, NoteTag.note_id == Note.id)
        .join(Example, Example.id == Note.example_id)
        .where(NoteTag.tag == tag, Example.run_id == run_id)
        .distinct()
    )
    return np.array(sorted(session.scalars(stmt)), dtype=np.int64)


def tags_of_examples(session: Session, example_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """{example id: its tags, sorted} for the tagged ones among ``example_ids``."""
    wanted = [int(i) for i in example_ids]
    if not wanted:
        return {}
    stmt = (
        select(Note.example_id, NoteTag.tag)
        .join(NoteTag, NoteTag.note_id == Note.id)
        .where(Note.example_id.in_(wanted))
    )
    return _grouped(session.execute(stmt))


def tags_of_run(session: Session, run_id: int) -> dict[int, tuple[str, ...]]:
    """{example id: its tags, sorted} for every tagged example of the run."""
    stmt = (
        select(Note.example_id, NoteTag.tag)
        .join(NoteTag, NoteTag.note_id == Note.id)
        .join(Example, Example.id == Note.example_id)
        .where(Example.run_id == run_id)
    )
    return _grouped(session.execute(stmt))


def example_texts(session: Session, example_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """{example id: (its run's name, its text)} for ``example_ids`` (the export's excerpts)."""
    wanted = sorted({int(i) for i in example_ids})
    if not wanted:
        return {}
    stmt = (
        select(Example.id, Run.name, Example.text)
        .join(Run, Run.id == Example.run_id)
        .where(Example.id.in_(wanted))
    )
    return {int(i): (name, text) for i, name, text in session.execute(stmt)}


def _grouped(rows: Iterable[tuple[int, str]]) -> dict[int, tuple[str, ...]]:
    found: dict[int, set[str]] = {}
    for example_id, tag in rows:
        found.setdefault(int(example_id), set()).add(tag)
    return {k: tuple(sorted(v)) for k, v in found.items()}

"""``attention-atlas notes export``: the reading group's notes and saved views as Markdown or
CSV, for minutes and slides (added to the ``attention-atlas`` group by :mod:`ingest.cli`).

Each note comes with its tags, an excerpt of its example's text and a link to the view it was
written from; each saved view with its description, author, date and link. Links are dashboard
paths (``/example/3?layer=1``), made absolute with ``--base-url``. The store is opened
read-only. Notes are grouped by example (oldest first), views newest first.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from attention_atlas.db.cli_common import DB_OPTION, fail, open_engine

if TYPE_CHECKING:  # the store's modules load when the command runs
    from attention_atlas.db.notes import NoteInfo

EXCERPT_CHARS = 200
CSV_COLUMNS = [
    "kind",
    "id",
    "name",
    "example_id",
    "run",
    "author",
    "created_at",
    "edited_at",
    "tags",
    "description",
    "body",
    "excerpt",
    "link",
]


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (with an ellipsis when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _safe(text: str) -> str:
    """Markdown text with raw HTML neutralised, as the dashboard shows it (``<`` as an entity,
    so a ``<script>`` in a note stays text wherever the minutes are rendered)."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _link(base: str, path: str) -> str:
    return base.rstrip("/") + path if base else path


def _note_link(base: str, note: NoteInfo) -> str:
    return _link(base, note.view or f"/example/{note.example_id}")


def to_markdown(notes: list, views: list, texts: dict, base: str = "") -> str:
    """Markdown: the saved views, then the notes grouped by example (``texts``: {example id:
    (run name, text)}). Note bodies are Markdown already and go in as written, raw HTML
    neutralised."""
    out = [f"# Reading group: {len(notes)} notes, {len(views)} saved views", ""]
    if views:
        out += ["## Saved views", ""]
        for v in views:
            name = _safe(v.name).replace("[", "\\[").replace("]", "\\]")
            link = _link(base, v.url)
            out.append(f"- **[{name}]({link})**, {_safe(v.author)}, {_stamp(v.created_at)}")
            if v.description:
                out.append(f"  {_safe(excerpt(v.description, 1000))}")
        out.append("")
    by_example: dict[int, list] = {}
    for note in sorted(notes, key=lambda n: (n.example_id, n.id)):
        by_example.setdefault(note.example_id, []).append(note)
    if by_example:
        out += ["## Notes", ""]
    for example_id, group in by_example.items():
        run, text = texts.get(example_id, ("?", ""))
        tags = sorted({t for n in group for t in n.tags})
        out += [f"### Example {example_id} (run {_safe(run)})", "", f"> {_safe(excerpt(text))}", ""]
        if tags:
            out += ["Tags: " + ", ".join(f"`{t}`" for t in tags), ""]
        for note in group:
            edited = f", edited {_stamp(note.edited_at)}" if note.edited_at else ""
            link = _note_link(base, note)
            who = _safe(note.author)
            out += [f"**{who}**, {_stamp(note.created_at)}{edited} ([view]({link}))", ""]
            out += [_safe(note.body), ""]
    return "\n".join(out).rstrip() + "\n"


def to_csv(notes: list, views: list, texts: dict, base: str = "") -> str:
    """CSV, one row per note (``kind`` note) and per saved view (``kind`` view)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for v in views:
        writer.writerow(
            {
                "kind": "view",
                "id": v.id,
                "name": v.name,
                "author": v.author,
                "created_at": _stamp(v.created_at),
                "description": v.description,
                "link": _link(base, v.url),
            }
        )
    for n in sorted(notes, key=lambda n: (n.example_id, n.id)):
        run, text = texts.get(n.example_id, ("", ""))
        writer.writerow(
            {
                "kind": "note",
                "id": n.id,
                "example_id": n.example_id,
                "run": run,
                "author": n.author,
                "created_at": _stamp(n.created_at),
                "edited_at": _stamp(n.edited_at),
                "tags": " ".join(n.tags),
                "body": n.body,
                "excerpt": excerpt(text),
                "link": _note_link(base, n),
            }
        )
    return buffer.getvalue()


@click.group()
def notes() -> None:
    """The reading group's notes, tags and saved views."""


@notes.command("export")
@DB_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv"]),
    default="md",
    show_default=True,
    help="Markdown (for minutes) or CSV (one row per note or view).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (replaced). Default: standard output.",
)
@click.option(
    "--base-url",
    default="",
    help="Dashboard address put before every link, e.g. http://atlas.lab:8050 (default: paths).",
)
def export_notes(db_url: str | None, fmt: str, out: str | None, base_url: str) -> None:
    """Export every note (with tags, an excerpt of its example and a link) and saved view."""
    from attention_atlas.db.engine import session_factory
    from attention_atlas.db.notes import all_notes, example_texts, list_views

    if out and not Path(out).parent.resolve().is_dir():
        fail(f"--out {out}: folder {Path(out).parent} does not exist")
    engine = open_engine(db_url)
    try:
        with session_factory(engine)() as session:
            found, views = all_notes(session), list_views(session)
            texts = example_texts(session, {n.example_id for n in found})
    finally:
        engine.dispose()
    text = (to_markdown if fmt == "md" else to_csv)(found, views, texts, base_url)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"wrote {len(found)} notes and {len(views)} saved views to {out}", err=True)

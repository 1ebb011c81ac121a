"""The reading group's layer (issue 14): attention_atlas.db.notes' validation and writes, the tag
filter (numpy and SQL alike, never stale), the notes panel's and "Save this view"'s callbacks called
directly, ``serve --read-only``, and ``attention-atlas notes export``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.dash_fixtures import build_store

from attention_atlas.dashboard import ids
from attention_atlas.dashboard.data import write_access as writing
from attention_atlas.dashboard.data.service import service
from attention_atlas.dashboard.reading_group import notes_panel, save_view
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import CorpusState
from attention_atlas.db import queries
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.notes import (
    MAX_BODY,
    NoteError,
    NotesWriter,
    clean_tags,
    example_ids_with_tag,
    list_views,
    notes_of_example,
)
from attention_atlas.ingest.cli import main


def _page(name: str):
    import importlib

    return importlib.import_module(f"attention_atlas.dashboard.pages.{name}")


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, int]:
    return build_store(tmp_path, n_examples=30)


@pytest.fixture
def writer(store: tuple[str, int]) -> NotesWriter:
    w = NotesWriter(store[0])
    yield w
    w.dispose()


def _read(url: str):
    return session_factory(make_engine(url, readonly=True))()


# -- db.notes ------------------------------------------------------------------------------
def test_add_edit_delete_round_trip(store, writer) -> None:
    url, run_id = store
    note = writer.add_note(3, "ann", "Negation **flips** it", "Negation, sink-head", "/example/3")
    assert note.tags == ("negation", "sink-head") and note.edited_at is None
    edited = writer.edit_note(note.id, "ann", "kept", "negation, disagree-but-faithful")
    assert edited.tags == ("disagree-but-faithful", "negation") and edited.edited_at is not None
    with _read(url) as session:
        (stored,) = notes_of_example(session, 3)
        assert (stored.body, stored.tags, stored.view) == (edited.body, edited.tags, "/example/3")
        assert example_ids_with_tag(session, run_id, "negation").tolist() == [3]
        assert example_ids_with_tag(session, run_id, "sink-head").tolist() == []
    writer.delete_note(note.id, "ann")
    with _read(url) as session:
        assert notes_of_example(session, 3) == []
        assert example_ids_with_tag(session, run_id, "negation").tolist() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, "ann", "   "), "the note is empty"),
        ((3, "", "x"), "the author name is empty"),
        ((3, "ann", "x", "has space"), "has spaces"),
        ((3, "ann", "x", "a" * 41), "at most 40"),
        ((3, "ann", "x", "naïve"), "may hold only"),
        ((3, "ann", "x", ",".join(f"t{i}" for i in range(11))), "at most 10"),
        ((3, "ann", "x" * (MAX_BODY + 1)), "characters long"),
        ((999, "ann", "x"), "there is no example 999"),
        ((2**70, "ann", "x"), "there is no example"),
        (("abc", "ann", "x"), "no example is open"),
        ((3, "ann", "x", "", "javascript:alert(1)"), "dashboard path"),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_written(store, writer, args, message) -> None:
    with pytest.raises(NoteError, match=message):
        writer.add_note(*args)
    with _read(store[0]) as session:
        assert notes_of_example(session, 3) == []


def test_only_the_author_edits_or_deletes(writer) -> None:
    note = writer.add_note(4, "ann", "mine", "x")
    with pytest.raises(NoteError, match="only ann"):
        writer.edit_note(note.id, "bob", "not yours", "")
    with pytest.raises(NoteError, match="only ann"):
        writer.delete_note(note.id, "bob")
    with pytest.raises(NoteError, match="does not exist"):
        writer.delete_note(note.id + 100, "ann")


def test_view_names_are_unique_and_addresses_stay_on_the_dashboard(store, writer) -> None:
    writer.save_view("negations", "why", "/?tag=negation&band=disagree", "ann")
    with pytest.raises(NoteError, match="exists already"):
        writer.save_view("negations", "other", "/heads", "bob")
    for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""):
        with pytest.raises(NoteError):
            writer.save_view("other", "", bad, "ann")
    with _read(store[0]) as session:
        assert [(v.name, v.url) for v in list_views(session)] == [
            ("negations", "/?tag=negation&band=disagree")
        ]


def test_tags_are_split_on_commas_lowercased_and_deduplicated() -> None:
    assert clean_tags(" Sink-Head ,negation,, negation ") == ("negation", "sink-head")
    assert clean_tags(["a_b", "c1"]) == ("a_b", "c1")
    assert clean_tags("") == ()


# -- the dashboard -------------------------------------------------------------------------
@pytest.fixture
def app(store):
    return create_app(store[0])


def test_tag_filter_sees_a_note_added_after_the_filter_was_cached(app, store) -> None:
    url, run_id = store
    state = CorpusState.parse("?tag=negation&sort=length&desc=1")
    with app.server.test_request_context():
        assert _page("corpus").corpus_view(state)["counts"].total == 0  # cached now
        writing.writer().add_note(5, "ann", "a", "negation")
        writing.writer().add_note(7, "bob", "b", "negation, sink-head")
        view = _page("corpus").corpus_view(state)
        assert sorted(r["id"] for r in view["rows"]) == [5, 7]
        assert {r["id"]: r["tags"] for r in view["rows"]}[7] == "negation, sink-head"
        data = service()
        run = data.run(run_id)
        f = state.to_filter(run_id)
        with data.session() as session:  # numpy over cached columns == SQL
            assert (
                data.ids(run, f, "length", True).tolist()
                == queries.filtered_ids(session, f, "length", True).tolist()
            )
            assert data.counts(run, f) == queries.corpus_counts(session, f)
        points = data.scatter_points(run, f)
        assert sorted(points["id"].tolist()) == [5, 7]


def test_scatter_colours_by_tag(app) -> None:
    with app.server.test_request_context():
        writing.writer().add_note(5, "ann", "a", "negation")
        values = [None] * len(_page("corpus").FILTER_INPUTS)
        values[[k for _, k in _page("corpus").FILTER_INPUTS].index("color")] = "tag"
        figure = _page("corpus").update_scatter(*values, None)
    names = [trace.name for trace in figure.data]
    assert names[0] == "negation" and names[-1] == "no tag" and len(figure.data[0].x) == 1


def test_bad_tags_in_the_url_mean_no_tag_filter() -> None:
    for bad in ("has space", "a" * 41, "<script>", "\x00", "ü"):
        assert CorpusState.parse({"tag": bad}).tag == ""
    state = CorpusState.parse("?tag=Sink-Head&color=tag")
    assert (state.tag, state.color) == ("sink-head", "tag")
    assert state.to_search() == "?color=tag&tag=sink-head"


def _submit(example_id, body, tags, author="ann", editing=None):
    return notes_panel.submit(1, example_id, author, body, tags, editing, "?layer=1", 0)


def test_notes_panel_callbacks_write_show_edit_and_delete(app, store) -> None:
    with app.server.test_request_context():
        message, body, tags, editing, changed = _submit(3, "Look *here*", "negation, sink-head")
        assert (message, body, tags, editing, changed) == ("Note added.", "", "", None, 1)
        assert (
            _submit(3, "x", "two words")[0]
            == "tag 'two words' has spaces: use - or _ between words"
        )
        assert _submit(3, "", "x")[0] == "the note is empty"
        assert _submit(2**40, "x", "")[0] == f"there is no example {2**40} in this database"
        cards = notes_panel.show_notes(1, "ann", 3)
        assert len(cards) == 1 and "Look *here*" in str(cards[0])
        assert "note-edit" in str(cards[0]) and "note-edit" not in str(
            notes_panel.show_notes(1, "bob", 3)
        )
        note_id = notes_of_example(_read(store[0]), 3)[0].id
        assert _submit(3, "Changed", "negation", editing=note_id)[0] == "Note saved."
        assert notes_panel.delete_note(None, "bob", 1) == (dash_no_update(), dash_no_update())
    with _read(store[0]) as session:
        (note,) = notes_of_example(session, 3)
    assert (note.body, note.tags, note.view) == ("Changed", ("negation",), "/example/3?layer=1")


def dash_no_update():
    from dash import no_update

    return no_update


def test_save_view_callback(app, store) -> None:
    with app.server.test_request_context():
        event = {"url": "/heads?layer=1&head=2", "n": 1}
        message, name, description = save_view.save(event, "L1H2", "a sink head", "ann")
        assert (name, description) == ("", "") and "L1H2" in str(message)
        assert "exists already" in save_view.save(event, "L1H2", "again", "bob")[0]
        assert "dashboard path" in save_view.save({"url": "http://x"}, "x", "", "ann")[0]
        page = str(_page("views").layout())
    assert "L1H2" in page and "/heads?layer=1&head=2" in page


def _ids_in(component) -> set:
    found, stack = set(), [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif hasattr(node, "to_plotly_json"):
            if isinstance(getattr(node, "id", None), str):
                found.add(node.id)
            stack.append(getattr(node, "children", None))
    return found


def test_read_only_hides_write_controls_and_refuses_writes(store) -> None:
    app = create_app(store[0], read_only=True)
    assert ids.SAVE_VIEW_SUBMIT not in _ids_in(app.layout())  # built per request
    with app.server.test_request_context():
        page = _page("example").layout(example_id=3)
        assert ids.NOTES_LIST in _ids_in(page) and ids.NOTES_SUBMIT not in _ids_in(page)
        assert _submit(3, "x", "")[0] == writing.READ_ONLY_MESSAGE
        assert save_view.save({"url": "/"}, "x", "", "ann")[0] == writing.READ_ONLY_MESSAGE
    with _read(store[0]) as session:
        assert notes_of_example(session, 3) == [] and list_views(session) == []
    writable = create_app(store[0])
    assert ids.SAVE_VIEW_SUBMIT in _ids_in(writable.layout())
    with writable.server.test_request_context():
        assert ids.NOTES_SUBMIT in _ids_in(_page("example").layout(example_id=3))


# -- attention-atlas notes export ----------------------------------------------------------
def test_notes_export_markdown_and_csv(store, writer, tmp_path: Path) -> None:
    url, _ = store
    writer.add_note(
        3, "ann", "Negation <script>alert(1)</script>", "negation", "/example/3?ref=shap"
    )
    writer.add_note(3, "bob", "Agreed", "")
    writer.save_view("negations", "the disagreeing ones", "/?tag=negation", "ann")
    runner = CliRunner()
    md = runner.invoke(main, ["notes", "export", "--db", url, "--base-url", "http://atlas:8050"])
    assert md.exit_code == 0, md.output
    assert "[negations](http://atlas:8050/?tag=negation)" in md.output
    assert "### Example 3" in md.output and "`negation`" in md.output
    assert "(http://atlas:8050/example/3?ref=shap)" in md.output and "**bob**" in md.output
    assert "<script>" not in md.output and "&lt;script>" in md.output
    out = tmp_path / "notes.csv"
    result = runner.invoke(
        main, ["notes", "export", "--db", url, "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["kind"] for r in rows] == ["view", "note", "note"]
    assert rows[1]["tags"] == "negation" and rows[1]["link"] == "/example/3?ref=shap"
    assert rows[2]["link"] == "/example/3" and rows[1]["excerpt"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "pdf"], "Invalid value for '--format'"),
        (["--out", "/no/such/folder/x.md"], "does not exist"),
    ],
)
def test_notes_export_mistakes_exit_2(store, extra, message) -> None:
    result = CliRunner().invoke(main, ["notes", "export", "--db", store[0], *extra])
    assert result.exit_code == 2 and message in result.output


def test_notes_export_of_a_missing_database_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["notes", "export", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 2 and "does not exist" in result.output

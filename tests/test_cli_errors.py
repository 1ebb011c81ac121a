"""Every user error ends in exit code 2 and one line on stderr that names the problem;
never a traceback. Also the CLI's other commands (runs, db upgrade) on real databases."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from conftest import corpus_rows, write_csv
from support.checkpoints import save_tiny_gpt2

from attention_atlas.ingest.cli import main


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_user_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith("Error:") and "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.fixture
def base(tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory: Callable[..., str]):
    """A valid ingest command line; tests replace one part of it."""

    def make(**override: str) -> list[str]:
        options = {
            "--model": str(tiny_bert_dir),
            "--dataset": str(tiny_corpus),
            "--label-field": "label",
            "--db": sqlite_url_factory(),
            "--methods": "none",
        }
        options.update(override)
        return ["ingest", "-q", *(part for pair in options.items() for part in pair)]

    return make


def test_valid_command_works(base) -> None:
    result = invoke(*base())
    assert result.exit_code == 0, result.output
    assert "12/13 stored, 1 empty skipped" in result.output


def test_model_path_that_does_not_exist(base, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-model")
    assert_user_error(invoke(*base(**{"--model": missing})), "cannot load checkpoint", missing)


def test_model_hub_id_that_cannot_be_loaded(base) -> None:
    result = invoke(*base(**{"--model": "nobody-xyz/no-such-model-123"}))
    assert_user_error(result, "cannot load checkpoint", "nobody-xyz/no-such-model-123")


def test_dataset_file_that_does_not_exist(base, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.jsonl")
    assert_user_error(invoke(*base(**{"--dataset": missing})), "does not exist", missing)


def test_hub_dataset_that_cannot_be_loaded(base) -> None:
    result = invoke(*base(**{"--dataset": "nobody-xyz/no-such-dataset-123"}))
    assert_user_error(result, "cannot load dataset", "nobody-xyz/no-such-dataset-123")


def test_missing_text_field(base) -> None:
    result = invoke(*base(**{"--text-field": "review"}))
    assert_user_error(result, "text field 'review'", "columns: text, label")


def test_missing_label_field(base) -> None:
    result = invoke(*base(**{"--label-field": "sentiment"}))
    assert_user_error(result, "label field 'sentiment'")


def test_empty_corpus(base, tmp_path: Path) -> None:
    empty = write_csv(tmp_path / "empty.csv", [{"text": " ", "label": 0}, {"text": "", "label": 1}])
    assert_user_error(invoke(*base(**{"--dataset": str(empty)})), "no non-empty texts")


def test_non_classifier_without_zero_shot(base, tmp_path: Path) -> None:
    lm = save_tiny_gpt2(tmp_path / "lm", lm_head=True)
    result = invoke(*base(**{"--model": str(lm)}))
    assert_user_error(result, "not a sequence classifier", "GPT2LMHeadModel", "--zero-shot")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("sqlite:////no-such-folder-xyz/atlas.db", "does not exist"),
        ("nosuchdriver://host/db", "no driver"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/atlas", "cannot open database"),
    ],
)
def test_database_url_that_cannot_be_opened(base, url: str, needle: str) -> None:
    assert_user_error(invoke(*base(**{"--db": url})), needle)


@pytest.mark.parametrize("command", [["runs"], ["db", "upgrade"]])
def test_other_commands_report_bad_database_urls(command: list[str]) -> None:
    assert_user_error(
        invoke(*command, "--db", "sqlite:////no-such-folder-xyz/a.db"), "does not exist"
    )


def test_unknown_method(base) -> None:
    result = invoke(*base(**{"--methods": "attention,magic"}))
    assert_user_error(result, "unknown method(s) magic", "attention")


def test_label_names_that_do_not_match_the_checkpoint(base) -> None:
    assert_user_error(invoke(*base(**{"--labels": "a,b,c"})), "3 label names", "2 classes")


def test_string_labels_without_names(base, tmp_path: Path) -> None:
    rows = [{"text": r["text"], "label": "good"} for r in corpus_rows(3)]
    corpus = write_csv(tmp_path / "strings.csv", rows)
    assert_user_error(invoke(*base(**{"--dataset": str(corpus)})), "label 'good'", "--labels")


def test_same_run_name_with_different_settings(base) -> None:
    first = base(**{"--run": "mine"})
    assert invoke(*first).exit_code == 0
    db = first[first.index("--db") + 1]
    result = invoke(*base(**{"--run": "mine", "--db": db, "--max-length": "8", "--seed": "2"}))
    assert_user_error(result, "run 'mine' exists with different settings", "max_length", "seed")


def test_runs_and_db_upgrade(base, sqlite_url_factory: Callable[..., str]) -> None:
    url = sqlite_url_factory("fresh.db", migrated=False)
    upgraded = invoke("db", "upgrade", "--db", url)
    assert upgraded.exit_code == 0 and "database at revision" in upgraded.output
    assert "no runs yet" in invoke("runs", "--db", url).output
    assert invoke(*base(**{"--db": url, "--run": "listed"})).exit_code == 0
    listing = invoke("runs", "--db", url)
    assert listing.exit_code == 0
    line = next(x for x in listing.output.splitlines() if "listed" in x)
    assert "complete" in line and "12/13" in line and "encoder" in line


def test_gold_labels_outside_the_model_classes(base, tmp_path: Path) -> None:
    rows = [{"text": r["text"], "label": i} for i, r in enumerate(corpus_rows(4))]
    corpus = write_csv(tmp_path / "many.csv", rows)
    assert_user_error(invoke(*base(**{"--dataset": str(corpus)})), "gold label(s) [2, 3]")


def test_threads_must_be_positive(base) -> None:
    assert_user_error(invoke(*base(**{"--threads": "0"})), "--threads must be at least 1")


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_port_outside_the_valid_range(command: str) -> None:
    result = invoke(command, "--port", "99999")
    assert result.exit_code == 2 and "99999 is not in the range" in result.output


def test_help_shows_the_prompt_newline_escaped() -> None:
    text = invoke("ingest", "--help").output
    assert "Review: {text}\\nSentiment:" in text and "ATLAS_THREADS" in text


# -- schemas the commands cannot use ------------------------------------------------------
def _sqlite(path: Path, *statements: str) -> Path:
    with closing(sqlite3.connect(path)) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    return path


@pytest.fixture
def unusable(tmp_path: Path, sqlite_url_factory: Callable[..., str]) -> dict[str, str]:
    """What is wrong with it -> a database (URL or path) no command can use."""
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    newer = sqlite_url_factory("newer.db")
    _sqlite(Path(newer.removeprefix("sqlite:///")), "UPDATE alembic_version SET version_num='9999'")
    return {
        "text file": str(text),
        "foreign": str(_sqlite(tmp_path / "foreign.db", "CREATE TABLE notes (body TEXT)")),
        "empty": str(_sqlite(tmp_path / "empty.db", "CREATE TABLE t (x)", "DROP TABLE t")),
        "newer": newer,
    }


UNUSABLE = {
    "text file": "file is not a database",
    "foreign": "is not an Attention Atlas database (tables notes",
    "empty": "has no Attention Atlas schema: run `attention-atlas db upgrade`",
    "newer": "schema revision 9999, which this version of attention-atlas does not know",
}


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """serve must stop before it serves; if it did not, fail instead of blocking."""

    def run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the dashboard started")

    monkeypatch.setattr("dash.Dash.run", run)  # serve --dev
    monkeypatch.setattr(
        "attention_atlas.dashboard.server.production.run_production", run
    )  # serve (gunicorn)


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize("command", ["runs", "serve"])
@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_read_commands_refuse_a_schema_they_cannot_use(
    unusable: dict[str, str], command: str, kind: str
) -> None:
    assert_user_error(invoke(command, "--db", unusable[kind]), UNUSABLE[kind])


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize("command", ["runs", "serve"])
def test_read_commands_do_not_create_a_database(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert_user_error(invoke(command, "--db", str(missing)), "does not exist")
    assert not missing.exists()


@pytest.mark.parametrize("kind", ["text file", "foreign", "newer"])
def _tables(path: str) -> list[tuple[str, ...]]:
    with closing(sqlite3.connect(path.removeprefix("sqlite:///"))) as connection:
        return connection.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


@pytest.mark.parametrize("kind", ["foreign", "newer"])
def test_db_upgrade_refuses_a_database_it_cannot_migrate(
    unusable: dict[str, str], kind: str
) -> None:
    before = _tables(unusable[kind])
    assert_user_error(invoke("db", "upgrade", "--db", unusable[kind]), UNUSABLE[kind])
    assert _tables(unusable[kind]) == before  # nothing written


def test_db_upgrade_of_a_file_that_is_not_a_database(unusable: dict[str, str]) -> None:
    assert_user_error(invoke("db", "upgrade", "--db", unusable["text file"]), "not a database")


def test_ingest_refuses_a_database_that_is_not_atlas(base, unusable: dict[str, str]) -> None:
    assert_user_error(invoke(*base(**{"--db": unusable["foreign"]})), UNUSABLE["foreign"])


@pytest.fixture
def newer_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The migration scripts of a later release: one more (empty) revision after today's head.
    Returns (today's head, the later revision)."""
    from attention_atlas.db import migrate

    scripts = tmp_path / "scripts"
    shutil.copytree(migrate.script_location(), scripts, ignore=shutil.ignore_patterns("__py*"))
    head = ScriptDirectory(str(scripts)).get_current_head()
    later = f"{int(head[:4]) + 1:04d}_later"  # revision ids are file stems (0005_topic)
    (scripts / "versions" / f"{later}_later.py").write_text(
        f'revision = "{later}"\ndown_revision = "{head}"\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    monkeypatch.setattr(migrate, "script_location", lambda: scripts)
    return head, later


@pytest.mark.usefixtures("no_server")
def test_an_older_schema_asks_for_db_upgrade(
    newer_release: tuple[str, str], sqlite_url_factory: Callable[..., str]
) -> None:
    head, later = newer_release
    url = sqlite_url_factory()
    for command in ("runs", "serve"):
        result = invoke(command, "--db", url)
        assert_user_error(result, f"schema revision {head}, older than {later}", "db upgrade")
    upgraded = invoke("db", "upgrade", "--db", url)
    assert upgraded.exit_code == 0 and f"database at revision {later}" in upgraded.output
    assert "no runs yet" in invoke("runs", "--db", url).output

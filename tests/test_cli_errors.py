"""Every user error ends in exit code 2 and one line on stderr that names the problem;
never a traceback. Also the CLI's other commands (runs, db upgrade) on real databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import corpus_rows, write_csv
from fixtures_models import save_tiny_gpt2

from ingest.cli import main


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


def test_valid_command_works(base) -> None:  # noqa: ANN001 - fixture factory
    result = invoke(*base())
    assert result.exit_code == 0, result.output
    assert "12/13 stored, 1 empty skipped" in result.output


def test_model_path_that_does_not_exist(base, tmp_path: Path) -> None:  # noqa: ANN001
    missing = str(tmp_path / "no-such-model")
    assert_user_error(invoke(*base(**{"--model": missing})), "cannot load checkpoint", missing)


def test_model_hub_id_that_cannot_be_loaded(base) -> None:  # noqa: ANN001
    result = invoke(*base(**{"--model": "nobody-xyz/no-such-model-123"}))
    assert_user_error(result, "cannot load checkpoint", "nobody-xyz/no-such-model-123")


def test_dataset_file_that_does_not_exist(base, tmp_path: Path) -> None:  # noqa: ANN001
    missing = str(tmp_path / "missing.jsonl")
    assert_user_error(invoke(*base(**{"--dataset": missing})), "does not exist", missing)


def test_hub_dataset_that_cannot_be_loaded(base) -> None:  # noqa: ANN001
    result = invoke(*base(**{"--dataset": "nobody-xyz/no-such-dataset-123"}))
    assert_user_error(result, "cannot load dataset", "nobody-xyz/no-such-dataset-123")


def test_missing_text_field(base) -> None:  # noqa: ANN001
    result = invoke(*base(**{"--text-field": "review"}))
    assert_user_error(result, "text field 'review'", "columns: text, label")


def test_missing_label_field(base) -> None:  # noqa: ANN001
    result = invoke(*base(**{"--label-field": "sentiment"}))
    assert_user_error(result, "label field 'sentiment'")


def test_empty_corpus(base, tmp_path: Path) -> None:  # noqa: ANN001
    empty = write_csv(tmp_path / "empty.csv", [{"text": " ", "label": 0}, {"text": "", "label": 1}])
    assert_user_error(invoke(*base(**{"--dataset": str(empty)})), "no non-empty texts")


def test_non_classifier_without_zero_shot(base, tmp_path: Path) -> None:  # noqa: ANN001
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
def test_database_url_that_cannot_be_opened(base, url: str, needle: str) -> None:  # noqa: ANN001
    assert_user_error(invoke(*base(**{"--db": url})), needle)


@pytest.mark.parametrize("command", [["runs"], ["db", "upgrade"]])
def test_other_commands_report_bad_database_urls(command: list[str]) -> None:
    assert_user_error(
        invoke(*command, "--db", "sqlite:////no-such-folder-xyz/a.db"), "does not exist"
    )


def test_unknown_method(base) -> None:  # noqa: ANN001
    result = invoke(*base(**{"--methods": "attention,magic"}))
    assert_user_error(result, "unknown method(s) magic", "attention")


def test_label_names_that_do_not_match_the_checkpoint(base) -> None:  # noqa: ANN001
    assert_user_error(invoke(*base(**{"--labels": "a,b,c"})), "3 label names", "2 classes")


def test_string_labels_without_names(base, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [{"text": r["text"], "label": "good"} for r in corpus_rows(3)]
    corpus = write_csv(tmp_path / "strings.csv", rows)
    assert_user_error(invoke(*base(**{"--dataset": str(corpus)})), "label 'good'", "--labels")


def test_same_run_name_with_different_settings(base) -> None:  # noqa: ANN001
    first = base(**{"--run": "mine"})
    assert invoke(*first).exit_code == 0
    db = first[first.index("--db") + 1]
    result = invoke(*base(**{"--run": "mine", "--db": db, "--max-length": "8", "--seed": "2"}))
    assert_user_error(result, "run 'mine' exists with different settings", "max_length", "seed")


def test_runs_and_db_upgrade(base, sqlite_url_factory: Callable[..., str]) -> None:  # noqa: ANN001
    url = sqlite_url_factory("fresh.db", migrated=False)
    upgraded = invoke("db", "upgrade", "--db", url)
    assert upgraded.exit_code == 0 and "database at revision" in upgraded.output
    assert "no runs yet" in invoke("runs", "--db", url).output
    assert invoke(*base(**{"--db": url, "--run": "listed"})).exit_code == 0
    listing = invoke("runs", "--db", url)
    assert listing.exit_code == 0
    line = next(x for x in listing.output.splitlines() if "listed" in x)
    assert "complete" in line and "12/13" in line and "encoder" in line


def test_gold_labels_outside_the_model_classes(base, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [{"text": r["text"], "label": i} for i, r in enumerate(corpus_rows(4))]
    corpus = write_csv(tmp_path / "many.csv", rows)
    assert_user_error(invoke(*base(**{"--dataset": str(corpus)})), "gold label(s) [2, 3]")


def test_threads_must_be_positive(base) -> None:  # noqa: ANN001
    assert_user_error(invoke(*base(**{"--threads": "0"})), "--threads must be at least 1")


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_port_outside_the_valid_range(command: str) -> None:
    result = invoke(command, "--port", "99999")
    assert result.exit_code == 2 and "99999 is not in the range" in result.output


def test_help_shows_the_prompt_newline_escaped() -> None:
    text = invoke("ingest", "--help").output
    assert "Review: {text}\\nSentiment:" in text and "ATLAS_THREADS" in text

"""Corpus sources: local table files, save_to_disk folders and their label names; settings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import corpus_rows

from attention_atlas.ingest.corpus import CorpusError, load_corpus
from attention_atlas.ingest.settings import IngestSettings, SettingsError, parse_methods, validate

ROWS = corpus_rows(6) + [{"text": "\t ", "label": 1}, {"text": "last one", "label": 0}]


def _write(path: Path) -> Path:
    frame = pd.DataFrame(ROWS)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        import datasets

        features = datasets.Features(
            {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["bad", "good"])}
        )
        datasets.DatasetDict(
            {"test": datasets.Dataset.from_pandas(frame, features=features, preserve_index=False)}
        ).save_to_disk(str(path))
    return path


@pytest.mark.parametrize("name", ["c.csv", "c.tsv", "c.jsonl", "c.parquet", "saved"])
def test_every_source_gives_the_same_items(name: str, tmp_path: Path) -> None:
    corpus = load_corpus(str(_write(tmp_path / name)), label_field="label")
    assert [(i.source_index, i.text, i.label) for i in corpus.items] == [
        (k, r["text"], r["label"]) for k, r in enumerate(ROWS) if k != 6
    ]
    assert (corpus.n_source, corpus.n_skipped) == (8, 1)
    assert corpus.label_names == (("bad", "good") if name == "saved" else None)


def test_saved_folder_split_must_exist(tmp_path: Path) -> None:
    folder = _write(tmp_path / "saved")
    assert load_corpus(str(folder), split="test").split == "test"
    with pytest.raises(CorpusError, match="split 'train' not in"):
        load_corpus(str(folder), split="train")


def test_string_labels_map_through_label_names(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"t": "fine film", "y": "pos"}\n{"t": "dull", "y": "neg"}\n')
    corpus = load_corpus(str(path), text_field="t", label_field="y", label_names=["neg", "pos"])
    assert [i.label for i in corpus.items] == [1, 0]


def test_unlabeled_corpus_and_iteration(tmp_path: Path) -> None:
    corpus = load_corpus(str(_write(tmp_path / "c.csv")), limit=3)
    assert list(corpus) == [(k, r["text"], None) for k, r in enumerate(ROWS[:3])]


def test_methods_parsing() -> None:
    assert parse_methods("none") == () and parse_methods("") == ()
    assert parse_methods(" attention, ig,attention") == ("attention", "ig")
    assert "attention" in parse_methods(None)
    with pytest.raises(SettingsError, match="unknown method"):
        parse_methods("attention,nope")


def test_run_identity_ignores_batch_size_and_database() -> None:
    a = IngestSettings(checkpoint="org/model", dataset="data/x.csv", batch_size=4, db="a.db")
    b = IngestSettings(checkpoint="org/model", dataset="data/x.csv", batch_size=32, db="b.db")
    c = IngestSettings(checkpoint="org/model", dataset="data/x.csv", max_length=64)
    assert a.name == b.name and a.name.startswith("model-x-") and a.name != c.name
    assert "batch_size" not in a.run_settings() and a.run_settings()["max_length"] == 512


def test_validate_rejects_bad_values() -> None:
    with pytest.raises(SettingsError, match="--batch-size"):
        validate(IngestSettings(checkpoint="m", dataset="d", batch_size=0))
    with pytest.raises(SettingsError, match="{text}"):
        validate(IngestSettings(checkpoint="m", dataset="d", zero_shot=True, prompt="no slot"))


def test_every_setting_is_a_documented_cli_option() -> None:
    from dataclasses import fields

    from click.testing import CliRunner

    from attention_atlas.ingest.cli import main

    help_text = CliRunner().invoke(main, ["ingest", "--help"], terminal_width=200).output
    for f in fields(IngestSettings):
        assert len(f.metadata["help"]) > 10, f.name
        assert f.metadata["flag"] in help_text, f.name


def test_readme_mentions_every_command() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for command in (
        "make test",
        "attention-atlas ingest",
        "attention-atlas runs",
        "attention-atlas db upgrade",
        "attention-atlas serve",
        "ATLAS_DATABASE_URL",
    ):
        assert command in readme, command

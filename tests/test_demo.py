"""The embedded demo: the packaged corpus (fast checks) and the fine-tuned classifier (slow)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from attention_atlas.ingest.demo import make_corpus
from attention_atlas.ingest.demo.model import (
    MARKER,
    build_demo_model,
    cache_key,
    evaluate,
    load_demo_corpus,
)

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load_demo_corpus()


def test_corpus_is_large_and_balanced(corpus: list[dict]) -> None:
    assert len(corpus) >= 400
    labels = Counter(row["label"] for row in corpus)
    assert set(labels) == {0, 1}
    assert labels[0] == labels[1]


def test_test_split_is_stratified_and_about_a_hundred(corpus: list[dict]) -> None:
    test = Counter(row["label"] for row in corpus if row["split"] == "test")
    assert 90 <= sum(test.values()) <= 110
    assert test[0] == test[1]
    assert {row["split"] for row in corpus} == {"train", "test"}


def test_rows_are_well_formed(corpus: list[dict]) -> None:
    ids = [row["id"] for row in corpus]
    assert len(set(ids)) == len(ids)
    texts = [row["text"] for row in corpus]
    assert len(set(texts)) == len(texts), "duplicate reviews"
    for row in corpus:
        sentences = SENTENCE_END.split(row["text"].strip())
        assert 1 <= len(sentences) <= 6, row
        assert "{" not in row["text"], f"unfilled placeholder: {row['text']}"
        assert set(row["tags"]) <= set(make_corpus.TAGS)


def test_every_construction_tag_appears_in_both_splits(corpus: list[dict]) -> None:
    for split in ("train", "test"):
        seen = {tag for row in corpus if row["split"] == split for tag in row["tags"]}
        assert seen == set(make_corpus.TAGS), split


def test_name_and_number_tags_match_the_text(corpus: list[dict]) -> None:
    for row in corpus:
        has_digit = any(ch.isdigit() for ch in row["text"])
        if has_digit:
            assert "numbers" in row["tags"], row
        if "names" in row["tags"]:
            assert any(name in row["text"] for name in make_corpus.NAMES)


def test_both_sources_are_in_both_splits(corpus: list[dict]) -> None:
    pairs = Counter((row["source"], row["split"]) for row in corpus)
    for source in ("handwritten", "composed"):
        assert pairs[(source, "train")] > 0 and pairs[(source, "test")] > 0


def test_each_opinion_sentence_stays_in_one_split(corpus: list[dict]) -> None:
    """Held-back opinions and closers: a labelled sentence never crosses train and test."""
    from attention_atlas.ingest.demo import snippets

    labelled = snippets.OPINIONS_POS + snippets.OPINIONS_NEG
    labelled += snippets.CLOSERS_POS + snippets.CLOSERS_NEG
    checked = 0
    for _, sentence in labelled:
        if "{" in sentence or len(sentence) < 20:
            continue
        splits = {row["split"] for row in corpus if sentence in row["text"]}
        assert len(splits) <= 1, sentence
        checked += 1
    assert checked > 100


def test_regenerating_reproduces_the_file_byte_for_byte() -> None:
    text = make_corpus.render(make_corpus.build_examples())
    assert text.encode("utf-8") == make_corpus.CORPUS_PATH.read_bytes()
    assert make_corpus.render(make_corpus.build_examples()) == text


def test_a_different_seed_gives_a_different_corpus() -> None:
    assert make_corpus.build_examples(seed=1) != make_corpus.build_examples()


def test_cache_key_depends_on_seed() -> None:
    assert cache_key(0) != cache_key(1)
    assert cache_key(0) == cache_key(0)


@pytest.mark.slow
def test_build_demo_model_trains_reaches_target_and_is_reused(demo_cache: Path) -> None:
    corpus = load_demo_corpus()
    test = [row for row in corpus if row["split"] == "test"]
    folder = build_demo_model(demo_cache, progress=False)
    assert folder.parent == demo_cache
    info = json.loads((folder / MARKER).read_text())
    assert info["train_examples"] == sum(row["split"] == "train" for row in corpus)
    folders = [p.name for p in demo_cache.iterdir() if p.is_dir()]
    assert folders == [folder.name], "temporary folder left behind"

    accuracy = evaluate(folder, [r["text"] for r in test], [r["label"] for r in test])
    assert accuracy >= 0.85
    assert accuracy == pytest.approx(info["test_accuracy"], abs=1e-3)

    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}

    started = time.perf_counter()
    again = build_demo_model(demo_cache, progress=False)
    assert again == folder
    assert time.perf_counter() - started < 1.0


def test_an_unfinished_folder_is_not_reused(tmp_path: Path, monkeypatch) -> None:
    """A folder without the completion marker is rebuilt (training stubbed to stay fast)."""
    from attention_atlas.ingest.demo import model as demo_model

    calls = []

    def fake_train(folder: Path, *, seed: int, progress: bool) -> None:
        calls.append(folder)
        (folder / "config.json").write_text("{}")
        (folder / MARKER).write_text("{}")

    monkeypatch.setattr(demo_model, "_train_into", fake_train)
    half = tmp_path / cache_key(0)
    half.mkdir()
    (half / "model.safetensors").write_text("truncated")
    folder = build_demo_model(tmp_path, progress=False)
    assert folder == half and len(calls) == 1
    assert (folder / MARKER).is_file() and not (folder / "model.safetensors").exists()
    assert build_demo_model(tmp_path, progress=False) == folder and len(calls) == 1

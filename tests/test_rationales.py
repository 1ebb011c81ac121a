"""Human rationales: the three formats, malformed cells, and the character -> token mapping
through the model's own tokenizer (WordPiece and GPT-2's byte-level BPE), on synthetic texts
and on the SemEval-2021 Toxic Spans trial set (``../shared/data/toxic_spans``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from support.checkpoints import GPT2_TOKENIZER_DIR, save_tiny_gpt2

from attention_atlas.ingest.adapters import Adapter
from attention_atlas.ingest.loading import LoadRequest, load_adapter
from attention_atlas.ingest.rationales import RationaleError, parse_rationale, token_mask

TEXT = "this movie was a dumb and boring story"
WORDS = [4, 6]  # "dumb", "boring"


def _word_chars(text: str, words: list[int]) -> list[tuple[int, int]]:
    found = [m.span() for m in re.finditer(r"\S+", text)]
    return [found[i] for i in words]


def _as_formats(text: str, words: list[int]) -> dict[str, str]:
    spans = _word_chars(text, words)
    return {
        "words": json.dumps(words),
        "chars": json.dumps([i for s, e in spans for i in range(s, e)]),
        "spans": json.dumps([list(span) for span in spans]),
    }


def _adapter(folder: Path, max_length: int = 512) -> Adapter:
    return load_adapter(LoadRequest(str(folder), max_length=max_length, device="cpu"), None)


@pytest.fixture(scope="module")
def gpt2_real_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not GPT2_TOKENIZER_DIR.is_dir():
        pytest.skip(f"GPT-2 tokenizer files not found at {GPT2_TOKENIZER_DIR}")
    return save_tiny_gpt2(tmp_path_factory.mktemp("gpt2-real"), tokenizer_dir=GPT2_TOKENIZER_DIR)


def _marked_text(adapter: Adapter, text: str, cell: str, fmt: str) -> tuple[str, int]:
    enc = adapter.encode(text)
    rationale = token_mask(
        parse_rationale(cell, text, fmt), text, enc.offsets, enc.special_mask, enc.truncated
    )
    return "".join(
        text[s:e] for (s, e), m in zip(enc.offsets, rationale.mask, strict=True) if m
    ), rationale.cut


def test_formats_give_the_same_spans() -> None:
    cells = _as_formats(TEXT, WORDS)
    parsed = {fmt: parse_rationale(cell, TEXT, fmt) for fmt, cell in cells.items()}
    assert set(parsed.values()) == {((17, 21), (26, 32))}
    assert parse_rationale([[26, 32], [17, 21]], TEXT, "spans") == parsed["spans"]  # a list
    assert parse_rationale(np.array([4, 6]), TEXT, "words") == parsed["words"]  # parquet


@pytest.mark.parametrize("model", ["bert", "gpt2"])
def test_formats_give_the_same_token_mask(model: str, tiny_bert_dir, tiny_gpt2_dir) -> None:
    adapter = _adapter(tiny_bert_dir if model == "bert" else tiny_gpt2_dir)
    enc = adapter.encode(TEXT)
    masks = []
    for fmt, cell in _as_formats(TEXT, WORDS).items():
        spans = parse_rationale(cell, TEXT, fmt)
        masks.append(token_mask(spans, TEXT, enc.offsets, enc.special_mask, False).mask)
    assert all(np.array_equal(masks[0], m) for m in masks[1:])
    marked = "".join(TEXT[s:e] for (s, e), m in zip(enc.offsets, masks[0], strict=True) if m)
    assert marked.replace(" ", "") == "dumbboring"
    assert not masks[0][enc.special_mask].any()


@pytest.mark.parametrize(
    ("cell", "fmt", "needle"),
    [
        ("[3, 99]", "chars", "character index 99 out of range (the text has 38 characters)"),
        ("[-1]", "chars", "character index -1 out of range"),
        ("[8]", "words", "word index 8 out of range (the text has 8 words)"),
        ('["a"]', "chars", "character index 'a' is not an integer"),
        ("[1.5]", "chars", "is not an integer"),
        ("[true]", "words", "is not an integer"),
        ("moron", "chars", "not a JSON list"),
        ("7", "chars", "not a list"),
        ("[[0, 5], [3, 8]]", "spans", "spans overlap at character 3"),
        ("[[5, 5]]", "spans", "empty or outside"),
        ("[[0, 39]]", "spans", "empty or outside"),
        ("[3]", "spans", "is not a [start, end) pair"),
    ],
)
def test_malformed_cells_say_what_is_wrong(cell: str, fmt: str, needle: str) -> None:
    with pytest.raises(RationaleError) as raised:
        parse_rationale(cell, TEXT, fmt)
    assert needle in str(raised.value)


@pytest.mark.parametrize("cell", ["[]", "", "  ", None, float("nan"), []])
def test_an_empty_cell_is_no_rationale(cell) -> None:
    assert parse_rationale(cell, TEXT, "chars") is None


def test_trailing_space_does_not_mark_the_next_token(tiny_gpt2_dir) -> None:
    # "dumb " marked with its space: GPT-2's next token " and" starts with that space
    marked, _ = _marked_text(_adapter(tiny_gpt2_dir), TEXT, "[[17, 22]]", "spans")
    assert marked.strip() == "dumb"


def test_truncation_keeps_surviving_marks_and_counts_the_cut(tiny_bert_dir) -> None:
    text = "dumb " + "the movie was good " * 20 + "boring"
    cell = json.dumps([[0, 4], [len(text) - 6, len(text)]])
    marked, cut = _marked_text(_adapter(tiny_bert_dir, max_length=16), text, cell, "spans")
    assert marked == "dumb" and cut == 6  # "boring" is past the 16th token


def _toxic_rows(shared_data: Path) -> list[tuple[str, str]]:
    import pandas as pd

    frame = pd.read_csv(shared_data / "toxic_spans" / "tsd_trial.csv", keep_default_na=False)
    return list(zip(frame["spans"], frame["text"], strict=True))


@pytest.mark.parametrize("model", ["wordpiece", "gpt2-bpe"])
def test_toxic_spans_map_to_tokens(model: str, shared_data, tiny_bert_dir, gpt2_real_dir) -> None:
    """Every annotated comment: a token is marked exactly when one of its non-space characters
    was marked, and every marked non-space character lies in a marked token (none truncated
    at 512 tokens)."""
    adapter = _adapter(tiny_bert_dir if model == "wordpiece" else gpt2_real_dir)
    rows = _toxic_rows(shared_data)
    annotated = 0
    for cell, text in rows:
        spans = parse_rationale(cell, text, "chars")
        if spans is None:
            continue
        annotated += 1
        enc = adapter.encode(text)
        chars = {i for s, e in spans for i in range(s, e) if not text[i].isspace()}
        rationale = token_mask(spans, text, enc.offsets, enc.special_mask, enc.truncated)
        covered = set()
        for (s, e), special, m in zip(enc.offsets, enc.special_mask, rationale.mask, strict=True):
            inside = chars & set(range(s, e))
            assert bool(m) == (bool(inside) and not special), (text, s, e)
            covered |= inside
        if not enc.truncated:
            assert covered == chars and rationale.cut == 0
    assert annotated == 647  # 690 comments, 43 with no span marked
    first_cell, first_text = rows[0]
    marked, _ = _marked_text(adapter, first_text, first_cell, "chars")
    assert re.sub(r"\s", "", marked).lower() == "moronbigot"

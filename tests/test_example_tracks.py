"""The example page's display text and aligned tracks, without a browser (issue 15)."""

from __future__ import annotations

import re

import numpy as np
from dash import html

from attention_atlas.dashboard import display_text, example_tokens, tracks
from attention_atlas.dashboard.figures import attention_rows
from attention_atlas.dashboard.urlstate import ExampleState

TEXT = "Good film.<br /><br />Bad end"
# BERT-style tokens of TEXT with their character offsets (the tag spelled as four tokens each)
TOKENS = ["[CLS]", "good", "film", ".", "<", "br", "/", ">", "<", "br", "/", ">", "bad", "end"]
TOKENS += ["[SEP]"]
OFFSETS = [(0, 0), (0, 4), (5, 9), (9, 10), (10, 11), (11, 13), (14, 15), (15, 16)]
OFFSETS += [(16, 17), (17, 19), (20, 21), (21, 22), (22, 25), (26, 29), (0, 0)]
WORDS = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -1]
SPECIAL = np.array([t.startswith("[") for t in TOKENS])


def _doc() -> tracks.TokenText:
    offsets = np.array(OFFSETS)
    return tracks.TokenText(
        list(TOKENS),
        np.array(WORDS),
        SPECIAL,
        display_text.token_markup(offsets, TEXT, len(TOKENS)),
        display_text.breaking(TEXT),
        TEXT,
        offsets,
    )


def test_text_panel_shows_breaks_and_greys_the_truncated_tail() -> None:
    children = display_text.text_children(TEXT, seen_end=26)
    assert children[0] == "Good film."
    assert [type(c) for c in children[1:3]] == [html.Br, html.Br]
    assert children[3] == "Bad " and children[4].children == "end"
    assert children[4].className == "unseen"
    assert display_text.text_children("a <i>b</i>") == ["a ", "b"]


def test_markup_tokens_are_found_and_stored_tokens_stay() -> None:
    doc = _doc()
    assert doc.markup.tolist() == [-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1]
    words = tracks.build_units(doc, "word")
    assert words.labels == ["[CLS]", "Good", "film", ".", "↵", "↵", "Bad", "end", "[SEP]"]
    assert words.first.tolist() == [0, 1, 2, 3, 4, 8, 12, 13, 14]
    scores = np.arange(len(TOKENS), dtype=float)
    assert words.sums(scores)[4] == 4 + 5 + 6 + 7  # a tag's unit sums its tokens' scores
    subwords = tracks.build_units(doc, "subword")
    assert subwords.labels == TOKENS and subwords.markup.sum() == 8
    assert doc.tokens == TOKENS


def test_tracks_align_methods_per_line_and_pin_a_unit() -> None:
    scores = {"ig": np.linspace(-1, 1, len(TOKENS)), "attention": np.linspace(0, 1, len(TOKENS))}
    page = tracks.tracks_html(_doc(), scores, "word", False, pinned=9, density="compact")
    lines = re.findall(
        r'<div class="track-line".*?</div></div>(?=<div class="track-line"|</div>)', page
    )
    assert lines, page[:400]
    for line in lines:
        words = re.findall(r'tok-word[^"]*" data-pos="(\d+)"', line)
        for method in ("ig", "attention"):
            row = re.search(rf'data-method="{method}">(.*?)</div>', line).group(1)
            assert re.findall(r'data-pos="(\d+)"', row) == words  # same columns in every track
    assert 'class="tracks density-compact"' in page
    assert page.count("tok-pinned") == 3  # the unit holding token 9 (the second tag), per track
    assert "[CLS]" not in page  # specials hidden
    assert 'title="ig: Bad = ' in page  # the hover names the method, the word and its value


def test_hostile_tokens_are_escaped() -> None:
    doc = tracks.TokenText(
        ["<img src=x onerror=alert(1)>"],
        np.array([0]),
        np.array([False]),
        np.array([-1]),
        np.zeros(0, bool),
    )
    page = tracks.tracks_html(doc, {"ig": np.array([1.0])}, "subword", False, None)
    assert "<img" not in page and "&lt;img" in page


def test_view_and_methods_follow_length_and_control() -> None:
    assert (
        example_tokens.default_view(512) == "word" and example_tokens.default_view(40) == "subword"
    )
    assert example_tokens.view_of(ExampleState(), 512) == "word"
    assert example_tokens.canonical_view("word", 512) is None  # the default: not in the link
    assert example_tokens.canonical_view("subword", 512) == "subword"
    assert example_tokens.canonical_view({"x": 1}, 512) is None
    stored = ["attention", "ig", "shap"]
    assert example_tokens.canonical_methods(["shap", "ig", "shap", 3, "lime"], stored) == (
        "shap",
        "ig",
    )
    assert example_tokens.canonical_methods(stored, stored) == ()
    assert example_tokens.canonical_methods("ig", stored) == ()


def test_attention_by_layer_links_to_tokens() -> None:
    rows = np.random.default_rng(0).random((3, 2, 6))
    keep = np.array([False, True, True, True, True, False])
    fig = attention_rows.prediction_rows(rows, list("abcdef"), keep, layer=1, head=None, token=3)
    assert np.array(fig["data"][0]["z"]).shape == (3, 4)
    assert np.allclose(fig["data"][0]["z"][2], rows[2].mean(axis=0)[1:5], atol=1e-5)
    assert len(fig["layout"]["shapes"]) == 2  # the pinned token's column and the chosen layer
    click = {"points": [{"x": 2, "y": 0, "customdata": 3}]}
    assert attention_rows.clicked_position(click, 6) == 3
    for junk in (None, {"points": [{"customdata": "x"}]}, {"points": [{"customdata": 60}]}, []):
        assert attention_rows.clicked_position(junk, 6) is None

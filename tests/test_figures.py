"""Pure figure builders and token components: shapes, colour bars, hover text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attention_atlas.dashboard import components
from attention_atlas.dashboard.figures import charts as figures
from attention_atlas.dashboard.figures import example as example_figures


def test_scatter_colours_by_correctness_and_restores_box() -> None:
    points = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "x": [0.1, 0.5, 0.9],
            "y": [0.2, 0.4, 0.8],
            "correct": [True, False, True],
        }
    )
    fig = figures.agreement_scatter(points, "x title", "y title", 0.5, 0.0, (0, 0.5, 0, 0.5))
    names = {t.name: len(t.x) for t in fig.data}
    assert names == {"correct": 2, "incorrect": 1}
    assert fig.layout.xaxis.title.text == "x title" and fig.layout.dragmode == "select"
    assert fig.layout.selections[0].x1 == 0.5
    assert "%{x:.3f}" in fig.data[0].hovertemplate


def test_head_grid_has_colourbar_meaning_and_selection() -> None:
    grid = np.linspace(-1, 1, 12).reshape(3, 4)
    fig = figures.head_grid(grid, "t", "Spearman ρ with ig", selected=(2, 1))
    heat = fig["data"][0]
    assert heat["colorbar"]["title"]["text"] == "Spearman ρ with ig" and heat["zmid"] == 0
    assert np.allclose(np.asarray(heat["z"]), grid, atol=1e-4)
    shape = fig["layout"]["shapes"][0]
    assert (shape["x0"], shape["y0"]) == (0.5, 1.5)
    assert "%{z:.3f}" in heat["hovertemplate"]


def test_attention_heatmap_highlights_row_and_column() -> None:
    matrix = np.eye(3)
    fig = example_figures.attention_heatmap(
        matrix, ["a", "b", "c"], ["a", "b", "c"], "t", highlight=1
    )
    assert len(fig["layout"]["shapes"]) == 2
    assert fig["data"][0]["colorbar"]["title"]["text"] == "attention weight"
    assert fig["data"][0]["customdata"][0][2] == ["a → c (2)", 2]


def test_a_click_on_the_token_heatmap_pins_the_key_token() -> None:
    """Specials hidden: the third column shown is token position 3, and a click there pins 3."""
    from attention_atlas.dashboard.figures import attention_rows

    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    keep = np.array([False, True, True, True, False])
    full = np.random.default_rng(0).random((2, 2, 5, 5))
    fig = example_figures.attention_view(full[:, :, 4], full, tokens, keep, 1, 0)
    cell = fig["data"][0]["customdata"][0][2]
    assert cell == ["a → c (3)", 3]
    assert attention_rows.clicked_position({"points": [{"customdata": cell}]}, 5) == 3
    assert attention_rows.clicked_position({"points": [{"customdata": ["x", 99]}]}, 5) is None


def test_topk_bars_pick_largest_absolute_scores() -> None:
    scores = {"ig": np.array([0.1, -0.9, 0.5, 0.0]), "attention": np.array([0.4, 0.3, 0.2, 0.1])}
    fig = example_figures.topk_bars(scores, ["w", "x", "y", "z"], k=2)
    ig = fig["data"][0]
    assert ig["y"] == ["y (2)", "x (1)"] and ig["x"] == [0.5, -0.9]
    assert fig["layout"]["annotations"][1]["text"] == "attention"


def test_topk_bars_without_methods_is_a_figure_dict_saying_so() -> None:
    fig = example_figures.topk_bars({}, ["w", "x"])
    assert isinstance(fig, dict) and fig["data"] == []
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["no attributions stored"]


def test_deletion_curves_random_dashed_with_band() -> None:
    curves = {"ig": np.array([0.9, 0.5, 0.3]), "random": np.array([0.9, 0.8, 0.7])}
    fig = figures.deletion_curves(curves, {"ig": np.full(3, 0.1)})
    lines = {t["name"]: t for t in fig["data"] if t.get("name")}
    assert lines["random"]["line"]["dash"] == "dash" and lines["ig"]["line"]["dash"] == "solid"
    assert len(fig["data"]) == 3  # one band + two lines
    assert "probability" in fig["layout"]["yaxis"]["title"]["text"]


def test_layer_trend_shapes() -> None:
    mean = np.array([[0.1, 0.3], [0.5, 0.7]])
    fig = figures.layer_trend(mean, np.zeros_like(mean), "t", "ρ")
    assert list(fig.data[1].y) == [0.2, 0.6]


def test_aggregate_words_sums_subwords_and_keeps_specials() -> None:
    tokens = ["[CLS]", "wonder", "##ful", "film", "[SEP]"]
    labels, positions, values = components.aggregate_words(
        tokens,
        np.array([-1, 0, 0, 1, -1]),
        np.array([1, 0, 0, 0, 1], bool),
        np.array([0.0, 1.0, 2.0, 3.0, 0.5]),
    )
    assert labels == ["[CLS]", "wonderful", "film", "[SEP]"]
    assert positions == [0, 1, 3, 4] and values.tolist() == [0.0, 3.0, 3.0, 0.5]


def test_token_rows_colour_signed_and_hide_specials() -> None:
    import re

    tokens = ["[CLS]", "good", "<b>", "[SEP]"]
    html_row = components.token_row_html(
        "ig",
        tokens,
        [0, 1, 2, 3],
        np.array([0.0, 1.0, -0.5, 0.0]),
        np.array([False, True, True, False]),
        pinned=2,
    )
    spans = re.findall(
        r'<span class="([^"]+)" data-pos="(\d+)" style="([^"]+)" title="([^"]+)">([^<]*)</span>',
        html_row,
    )
    assert [s[4] for s in spans] == ["good", "&lt;b&gt;"]  # specials hidden, text escaped
    assert "rgba(178, 24, 43" in spans[0][2] and "rgba(33, 102, 172" in spans[1][2]
    assert "tok-pinned" in spans[1][0] and "-0.5000" in spans[1][3]
    rows = components.token_rows(
        tokens,
        np.array([-1, 0, 1, -1]),
        np.array([1, 0, 0, 1], bool),
        {"attention": np.array([0.5, 0.2, 0.1, 0.2]), "ig": np.array([0.0, 1.0, -0.5, 0.0])},
        "subword",
        False,
        None,
    )
    markup = rows.children[1].children
    assert markup.count('class="tok-row"') == 2 and "rgba(84, 39, 143" in markup

"""Figures of the example page: one example's attention (token x token, or the prediction
position's rows), its top tokens per method and its predicted probabilities. Every builder
returns a plain ``FigureDict``, on purpose (no plotly validation: the page draws several per
request; see the package docstring), the "nothing stored" placeholder included. Shared colours
and layout: :mod:`attention_atlas.dashboard.figures.charts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attention_atlas.dashboard.figures import FigureDict
from attention_atlas.dashboard.figures.charts import SEQUENTIAL, empty_figure, layout_dict
from attention_atlas.models import vocabulary


def attention_heatmap(
    matrix: np.ndarray,
    query_tokens: list[str],
    key_tokens: list[str],
    title: str,
    highlight: int | None = None,
    key_positions: list[int] | None = None,
) -> FigureDict:
    """Token x token attention ([queries, keys]) as a plain figure dict; ``highlight`` (a key
    column) outlined in its column, and in its row when queries are the same tokens. Each
    cell's customdata is [hover text, the key's token position] (``key_positions``, default
    the column), so a click can pin the key token."""
    positions = list(range(len(key_tokens))) if key_positions is None else list(key_positions)
    keys = [(f"{t} ({p})", p) for t, p in zip(key_tokens, positions, strict=True)]
    trace = {
        "type": "heatmap",
        "z": np.asarray(matrix, dtype=float).round(5).tolist(),
        "x": list(range(len(key_tokens))),
        "y": list(range(len(query_tokens))),
        "customdata": [[[f"{q} → {k}", p] for k, p in keys] for q in query_tokens],
        "colorscale": SEQUENTIAL,
        "zmin": 0,
        "colorbar": {"title": {"text": "attention weight", "side": "right"}},
        "hovertemplate": "%{customdata[0]}<br>weight = %{z:.4f}<extra></extra>",
    }
    longest = max((len(t) for t in key_tokens), default=4)
    layout = layout_dict(title, max(340, min(900, 200 + 14 * len(query_tokens))))
    layout["margin"] = {**layout["margin"], "b": 50 + 8 * longest}  # rotated tick labels
    layout["xaxis"] = {
        "title": {"text": "attended-to token (key)"},
        "tickangle": -60,
        "tickvals": list(range(len(key_tokens))),
        "ticktext": key_tokens,
    }
    layout["yaxis"] = {
        "title": {"text": "query token"},
        "autorange": "reversed",
        "tickvals": list(range(len(query_tokens))),
        "ticktext": query_tokens,
        "automargin": True,
    }
    shapes = []
    line = {"color": "#e66101", "width": 3}
    if highlight is not None and 0 <= highlight < len(key_tokens):
        shapes.append(
            {
                "type": "rect",
                "x0": highlight - 0.5,
                "x1": highlight + 0.5,
                "y0": -0.5,
                "y1": len(query_tokens) - 0.5,
                "line": line,
            }
        )
        if len(query_tokens) == len(key_tokens):
            shapes.append(
                {
                    "type": "rect",
                    "y0": highlight - 0.5,
                    "y1": highlight + 0.5,
                    "x0": -0.5,
                    "x1": len(key_tokens) - 0.5,
                    "line": line,
                }
            )
    layout["shapes"] = shapes
    return {"data": [trace], "layout": layout}


def topk_bars(scores: dict[str, np.ndarray], tokens: list[str], k: int = 8) -> FigureDict:
    """Top-k tokens by |score| per method, one small horizontal bar chart per method; without
    methods, the :func:`~.charts.empty_figure` placeholder as a dict."""
    methods = list(scores)
    if not methods:
        return empty_figure("no attributions stored").to_plotly_json()
    cols = min(4, len(methods))
    rows = -(-len(methods) // cols)
    width, gap_x, gap_y = 1 / cols, 0.11, 0.16 if rows > 1 else 0.0
    layout = layout_dict(
        f"Top-{k} tokens per method (red positive, blue negative)", 260 * rows + 80
    )
    layout["font"] = {"size": 13}
    data, annotations = [], []
    for i, method in enumerate(methods):
        values = np.asarray(scores[method], dtype=float)
        order = np.argsort(-np.abs(values), kind="stable")[:k][::-1]
        row, col, n = i // cols, i % cols, i + 1
        x0, x1 = col * width + gap_x, (col + 1) * width - 0.01
        y1 = 1 - row / rows - (gap_y / 2 if row else 0)
        y0 = 1 - (row + 1) / rows + (gap_y / 2 if row < rows - 1 else 0)
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "x": values[order].tolist(),
                "y": [f"{tokens[j]} ({j})" for j in order],
                "xaxis": f"x{n}",
                "yaxis": f"y{n}",
                "marker": {"color": ["#b2182b" if v >= 0 else "#2166ac" for v in values[order]]},
                "hovertemplate": "%{y}<br>score = %{x:.4f}<extra>" + method + "</extra>",
                "showlegend": False,
            }
        )
        layout[f"xaxis{n}"] = {
            "domain": [x0, x1],
            "anchor": f"y{n}",
            "gridcolor": "#e8e8e8",
            "zerolinecolor": "#999",
        }
        layout[f"yaxis{n}"] = {"domain": [y0, y1], "anchor": f"x{n}", "automargin": True}
        annotations.append(
            {
                "text": method,
                "x": (x0 + x1) / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"size": 15},
            }
        )
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def probability_bars(probabilities: np.ndarray, names: list[str], gold: int | None) -> FigureDict:
    """Predicted probability per class (plain figure dict), the gold class marked."""
    labels = [n + (" (gold)" if i == gold else "") for i, n in enumerate(names)]
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": labels,
        "marker": {"color": "#5e3c99"},
        "x": np.asarray(probabilities, dtype=float).tolist(),
        "hovertemplate": "%{y}: p = %{x:.4f}<extra></extra>",
    }
    layout = layout_dict("Prediction", 120 + 40 * len(names))
    layout["xaxis"] = {"title": {"text": "probability"}, "range": [0, 1]}
    layout["yaxis"] = {"automargin": True}
    return {"data": [trace], "layout": layout}


ROWS_NOTE = "full matrix not stored for long examples"
PIN_HINT = "click a column to pin its token"


def attention_view(
    rows: np.ndarray,
    full: np.ndarray | None,
    tokens: list[str],
    keep: np.ndarray,
    layer: int | None,
    head: int | None,
    token: int | None = None,
    clickable: bool = True,
    layers: StoredLayers | None = None,
) -> FigureDict:
    """The example's attention for ``layer`` / ``head`` (mean over the ones that are None),
    over the ``keep`` positions: the token x token heatmap from the full tensor ([L, H, T, T]),
    or, when only the prediction position's rows ([L, H, T]) were stored (long examples), those
    rows. ``token`` (a position) is outlined. ``clickable=False`` (an export, where nothing
    answers a click) leaves the "click a column" hint out of the title. ``layers``: which model
    layers the arrays hold, when not every one (``--attention-rows last``); ``layer`` indexes
    the arrays then, the titles name model layers."""
    first = layers.first if layers is not None else 0
    where = f"layer {'mean' if layer is None else first + layer}, "
    where += f"head {'mean' if head is None else head}"
    pick_layer = slice(None) if layer is None else layer
    pick_head = slice(None) if head is None else head
    kept = np.array(tokens, dtype=object)[np.flatnonzero(keep)].tolist()
    key_pos = np.flatnonzero(keep)
    highlight = None
    if token is not None and token in key_pos:
        highlight = int(np.flatnonzero(key_pos == token)[0])
    note = f"<br><sup>{layers.note}</sup>" if layers is not None and layers.note else ""
    if full is not None:
        matrix = np.asarray(full[pick_layer, pick_head], dtype=np.float32)
        matrix = matrix.reshape(-1, *full.shape[-2:]).mean(axis=0)[np.ix_(key_pos, key_pos)]
        title = f"Attention, {where}" + (f" ({PIN_HINT})" if clickable else "") + note
        return attention_heatmap(matrix, kept, kept, title, highlight, key_pos.tolist())
    picked = np.asarray(rows[pick_layer, pick_head], dtype=np.float32).reshape(-1, rows.shape[-1])
    if layer is None and head is None:
        picked = picked.reshape(rows.shape[0], -1, rows.shape[-1]).mean(axis=1)
        labels = [f"layer {first + i} (mean of heads)" for i in range(rows.shape[0])]
    else:
        labels = [f"L{first + (layer if layer is not None else i)}" for i in range(len(picked))]
    title = f"Prediction-position attention, {where}<br><sup>{ROWS_NOTE}</sup>{note}"
    return attention_heatmap(picked[:, key_pos], labels, kept, title, highlight, key_pos.tolist())


@dataclass(frozen=True)
class StoredLayers:
    """The model layers an example's stored attention holds (``--attention-rows``): ``count``
    layers from ``first``; ``note`` says what the run lacks (None when it lacks nothing)."""

    first: int
    count: int
    note: str | None


NO_ROWS_NOTE = (
    "no attention rows stored: this run was ingested with --attention-rows none "
    "(head grids and the attention methods still used every layer)"
)


def stored_layers(rows: np.ndarray | None, num_layers: int) -> StoredLayers:
    """What ``rows`` ([stored layers, H, T] or None) holds of a model of ``num_layers``."""
    count = 0 if rows is None else rows.shape[0]
    held = vocabulary.layers_of_rows(count, num_layers)
    if not held:
        return StoredLayers(0, 0, NO_ROWS_NOTE if rows is not None else "no attention stored")
    if len(held) == num_layers:
        return StoredLayers(0, num_layers, None)
    note = f"only layer {held.start} is stored: this run was ingested with --attention-rows last"
    return StoredLayers(held.start, len(held), note)


def stored_attention_view(
    rows: np.ndarray | None,
    full: np.ndarray | None,
    num_layers: int,
    tokens: list[str],
    keep: np.ndarray,
    layer: int | None,
    head: int | None,
    token: int | None = None,
    clickable: bool = True,
) -> FigureDict:
    """:func:`attention_view` of whatever layers the run stored: a one-line notice when it
    stored none, the last layer (whatever ``layer`` asks) when it stored only that one."""
    layers = stored_layers(rows, num_layers)
    if rows is None or layers.count == 0:
        return empty_figure(layers.note or "").to_plotly_json()
    if layers.count < num_layers:
        return attention_view(rows, full, tokens, keep, 0, head, token, clickable, layers)
    return attention_view(rows, full, tokens, keep, layer, head, token, clickable)

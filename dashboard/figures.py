"""Pure figure builders: arrays / DataFrames in, ``plotly.graph_objects.Figure`` out.

No database and no Dash here, so each builder is tested on its own. Every figure is meant to be
read on a projector: large fonts, axis titles, colour bars that say what the colour means, and
hover text with the exact value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

FONT = {"size": 15}
DIVERGING = [
    [0.0, "#2166ac"],
    [0.25, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.75, "#f4a582"],
    [1.0, "#b2182b"],
]  # negative blue, positive red (explicit: plotly.js lacks RdBu_r)
SEQUENTIAL = [[0.0, "#fcfbfd"], [0.5, "#9e9ac8"], [1.0, "#3f007d"]]  # white to purple
METHOD_COLORS = {
    "attention": "#7b3294",
    "rollout": "#c2a5cf",
    "flow": "#a6611a",
    "agrad": "#dfc27d",
    "grad_input": "#80cdc1",
    "ig": "#018571",
    "shap": "#e66101",
    "random": "#777777",
}
MEASURE_NAMES = {
    "spearman": "Spearman ρ (|scores|)",
    "kendall": "Kendall τ (|scores|)",
    "spearman_signed": "Spearman ρ (signed)",
    "kendall_signed": "Kendall τ (signed)",
    "jaccard_5": "top-5 Jaccard",
    "jaccard_10pct": "top-10% Jaccard",
}


def _base(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    # template "none" plus a few settings: the "plotly_white" template costs ~35 ms per figure
    fig.update_layout(
        title={"text": title, "x": 0.01},
        font=FONT,
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        template="none",
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    fig.update_xaxes(gridcolor="#e8e8e8", zerolinecolor="#bbbbbb", automargin=True)
    fig.update_yaxes(gridcolor="#e8e8e8", zerolinecolor="#bbbbbb", automargin=True)
    return fig


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, font={"size": 18}, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, "", 300)


def pair_label(pair: tuple[str, str], measure: str) -> str:
    return f"{MEASURE_NAMES.get(measure, measure)}: {pair[0]} vs {pair[1]}"


def agreement_scatter(
    points: pd.DataFrame,
    x_title: str,
    y_title: str,
    agree: float,
    disagree: float,
    box: tuple[float, float, float, float] | None = None,
) -> go.Figure:
    """One point per example (columns id, x, y, correct), coloured by correctness, with the
    agree / disagree thresholds on x as dashed lines and the current box selection restored."""
    fig = go.Figure()
    groups = [
        (True, "correct", "#1b7837"),
        (False, "incorrect", "#c51b7d"),
        (None, "no gold label", "#888888"),
    ]
    for value, name, color in groups:
        mask = points["correct"].isna() if value is None else points["correct"] == value
        part = points[mask.fillna(False).astype(bool)]
        if part.empty:
            continue
        fig.add_trace(
            go.Scattergl(
                x=part["x"],
                y=part["y"],
                customdata=part["id"],
                mode="markers",
                name=name,
                marker={"color": color, "size": 7, "opacity": 0.7},
                hovertemplate="example %{customdata}<br>x = %{x:.3f}<br>y = %{y:.3f}<extra>"
                + name
                + "</extra>",
            )
        )
    for value, name in ((agree, "agree ≥"), (disagree, "disagree ≤")):
        fig.add_vline(
            x=value,
            line_dash="dash",
            line_color="#444",
            annotation_text=f"{name} {value:g}",
            annotation_position="top",
        )
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title)
    fig.update_layout(
        dragmode="select", legend={"title": "prediction", "orientation": "h", "y": -0.22}
    )
    if box is not None:
        x0, x1, y0, y1 = box
        fig.update_layout(selections=[{"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1}])
    return _base(fig, f"Agreement per example (n = {len(points)})", 460)


def head_grid(
    grid: np.ndarray,
    title: str,
    colorbar: str,
    selected: tuple[int, int] | None = None,
    signed: bool = True,
) -> dict:
    """[layers, heads] heatmap (plain figure dict); layer 0 at the bottom; selected cell
    outlined."""
    layers, heads = grid.shape
    trace = {
        "type": "heatmap",
        "z": np.asarray(grid, dtype=float).round(4).tolist(),
        "x": list(range(heads)),
        "y": list(range(layers)),
        "colorscale": DIVERGING if signed else SEQUENTIAL,
        "zmin": -1 if signed else 0,
        "zmax": 1 if signed else float(max(grid.max(), 1e-6)),
        "colorbar": {"title": {"text": colorbar, "side": "right"}},
        "hovertemplate": "layer %{y}, head %{x}<br>" + colorbar + " = %{z:.3f}<extra></extra>",
    }
    if signed:
        trace["zmid"] = 0
    layout = _layout_dict(title, 460)
    layout["xaxis"] = {"title": {"text": "head"}, "dtick": 1}
    layout["yaxis"] = {"title": {"text": "layer"}, "dtick": 1}
    if selected is not None:
        layer, head = selected
        layout["shapes"] = [
            {
                "type": "rect",
                "x0": head - 0.5,
                "x1": head + 0.5,
                "y0": layer - 0.5,
                "y1": layer + 0.5,
                "line": {"color": "black", "width": 3},
            }
        ]
    return {"data": [trace], "layout": layout}


def attention_heatmap(
    matrix: np.ndarray,
    query_tokens: list[str],
    key_tokens: list[str],
    title: str,
    highlight: int | None = None,
) -> dict:
    """Token x token attention ([queries, keys]) as a plain figure dict; ``highlight`` (a key
    position) outlined in its column, and in its row when queries are the same tokens."""
    keys = [f"{t} ({i})" for i, t in enumerate(key_tokens)]
    trace = {
        "type": "heatmap",
        "z": np.asarray(matrix, dtype=float).round(5).tolist(),
        "x": list(range(len(key_tokens))),
        "y": list(range(len(query_tokens))),
        "customdata": [[f"{q} → {k}" for k in keys] for q in query_tokens],
        "colorscale": SEQUENTIAL,
        "zmin": 0,
        "colorbar": {"title": {"text": "attention weight", "side": "right"}},
        "hovertemplate": "%{customdata}<br>weight = %{z:.4f}<extra></extra>",
    }
    longest = max((len(t) for t in key_tokens), default=4)
    layout = _layout_dict(title, max(340, min(900, 200 + 14 * len(query_tokens))))
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


def _layout_dict(title: str, height: int) -> dict:
    """The :func:`_base` look as a plain dict, for figures built without plotly's validation
    (it costs tens of ms per figure, and the example page builds several per request)."""
    return {
        "title": {"text": title, "x": 0.01},
        "font": FONT,
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 60, "b": 60},
        "template": "none",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
    }


def topk_bars(scores: dict[str, np.ndarray], tokens: list[str], k: int = 8) -> dict:
    """Top-k tokens by |score| per method, one small horizontal bar chart per method.
    Returned as a plain figure dict (``dcc.Graph`` accepts it)."""
    methods = list(scores)
    if not methods:
        return empty_figure("no attributions stored")
    cols = min(4, len(methods))
    rows = -(-len(methods) // cols)
    width, gap_x, gap_y = 1 / cols, 0.11, 0.16 if rows > 1 else 0.0
    layout = _layout_dict(
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


def deletion_curves(
    curves: dict[str, np.ndarray],
    spread: dict[str, np.ndarray] | None = None,
    title: str = "Deletion curves",
) -> dict:
    """Probability of the predicted class after deleting the top-k tokens, k = 0..K, one line
    per method; 'random' dashed grey; optional ± spread band. A plain figure dict."""
    data = []
    for method, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        x = np.arange(len(curve))
        color = METHOD_COLORS.get(method, "#333")
        if spread is not None and method in spread:
            upper, lower = curve + spread[method], curve - spread[method]
            data.append(
                {
                    "type": "scatter",
                    "x": np.concatenate([x, x[::-1]]).tolist(),
                    "y": np.concatenate([upper, lower[::-1]]).tolist(),
                    "fill": "toself",
                    "line": {"width": 0},
                    "fillcolor": color,
                    "opacity": 0.15,
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
        data.append(
            {
                "type": "scatter",
                "x": x.tolist(),
                "y": curve.tolist(),
                "mode": "lines+markers",
                "name": method,
                "line": {
                    "color": color,
                    "width": 3,
                    "dash": "dash" if method == "random" else "solid",
                },
                "hovertemplate": "k = %{x}<br>p = %{y:.4f}<extra>" + method + "</extra>",
            }
        )
    layout = _layout_dict(title, 440)
    layout["xaxis"] = {
        "title": {"text": "tokens deleted (top-k by the method)"},
        "dtick": 1,
        "gridcolor": "#e8e8e8",
    }
    layout["yaxis"] = {
        "title": {"text": "probability of predicted class"},
        "gridcolor": "#e8e8e8",
        "automargin": True,
    }
    return {"data": data, "layout": layout}


def layer_trend(mean: np.ndarray, std: np.ndarray, title: str, y_title: str) -> go.Figure:
    """Per layer: mean over heads of the per-head mean, with the spread across heads
    (min-max band) and ± the mean across-example std."""
    layers = np.arange(mean.shape[0])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([layers, layers[::-1]]),
            y=np.concatenate([mean.max(axis=1), mean.min(axis=1)[::-1]]),
            fill="toself",
            fillcolor="rgba(1,133,113,0.18)",
            line={"width": 0},
            name="range over heads",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=layers,
            y=mean.mean(axis=1),
            mode="lines+markers",
            name="mean over heads",
            line={"color": "#018571", "width": 3},
            error_y={"type": "data", "array": std.mean(axis=1), "visible": True},
            hovertemplate="layer %{x}<br>mean = %{y:.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="layer", dtick=1)
    fig.update_yaxes(title=y_title)
    fig.update_layout(legend={"orientation": "h", "y": -0.25})
    return _base(fig, title, 420)


def probability_bars(probabilities: np.ndarray, names: list[str], gold: int | None) -> dict:
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
    layout = _layout_dict("Prediction", 120 + 40 * len(names))
    layout["xaxis"] = {"title": {"text": "probability"}, "range": [0, 1]}
    layout["yaxis"] = {"automargin": True}
    return {"data": [trace], "layout": layout}


def agreement_matrix(methods: list[str], matrix: np.ndarray, title: str, measure: str) -> dict:
    """[M, M] method-by-method agreement heatmap with the value written in each cell."""
    signed = not measure.startswith("jaccard")
    z = np.asarray(matrix, dtype=float).round(3)
    text = [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in z]
    trace = {
        "type": "heatmap",
        "z": [[None if np.isnan(v) else v for v in row] for row in z],
        "x": methods,
        "y": methods,
        "text": text,
        "texttemplate": "%{text}",
        "colorscale": DIVERGING if signed else SEQUENTIAL,
        "zmin": -1 if signed else 0,
        "zmax": 1,
        "colorbar": {"title": {"text": MEASURE_NAMES[measure], "side": "right"}},
        "hovertemplate": "%{y} vs %{x}: %{z:.3f}<extra></extra>",
    }
    layout = _layout_dict(title, 420)
    layout["yaxis"] = {"autorange": "reversed"}
    layout["xaxis"] = {"tickangle": -30}
    return {"data": [trace], "layout": layout}

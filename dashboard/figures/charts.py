"""The shared look (fonts, colour scales, :func:`layout_dict`), the corpus page's scatter, the
heads page's layer trend, and the figures several pages draw (head grids, deletion curves, the
empty placeholder): arrays / DataFrames in, figures out.

:func:`agreement_scatter`, :func:`layer_trend` and :func:`empty_figure` return a
``plotly.graph_objects.Figure`` (they use plotly's helpers: select box, threshold lines);
:func:`head_grid` and :func:`deletion_curves` return a plain ``FigureDict``, on purpose (no
plotly validation per request: see the package docstring), and :func:`layout_dict` the
``LayoutDict`` every dict figure starts from. Every figure is meant to be read on a projector:
large fonts, axis titles, colour bars that say what the colour means, and hover text with the
exact value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from attention_atlas.dashboard.figures import FigureDict, LayoutDict, TraceDict
from attention_atlas.models import vocabulary

FONT = {"size": 15}
DIVERGING = [
    [0.0, "#2166ac"],
    [0.25, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.75, "#f4a582"],
    [1.0, "#b2182b"],
]  # negative blue, positive red (explicit: plotly.js lacks RdBu_r)
SEQUENTIAL = [[0.0, "#fcfbfd"], [0.5, "#9e9ac8"], [1.0, "#3f007d"]]  # white to purple


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
    return f"{vocabulary.MEASURES.get(measure, measure)}: {pair[0]} vs {pair[1]}"


def agreement_scatter(
    points: pd.DataFrame,
    x_title: str,
    y_title: str,
    agree: float,
    disagree: float,
    box: tuple[float, float, float, float] | None = None,
) -> go.Figure:
    """One point per example (columns id, x, y, correct), coloured by correctness, or by the
    column ``tag`` when there is one (an example's tags joined, "" for none), with the
    agree / disagree thresholds on x as dashed lines and the current box selection restored."""
    fig = go.Figure()
    groups = _tag_groups(points) if "tag" in points else _correct_groups(points)
    for mask, name, color in groups:
        part = points[mask]
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
    legend = "tags" if "tag" in points else "prediction"
    fig.update_layout(dragmode="select", legend={"title": legend, "orientation": "h", "y": -0.22})
    if box is not None:
        x0, x1, y0, y1 = box
        fig.update_layout(selections=[{"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1}])
    return _base(fig, f"Agreement per example (n = {len(points)})", 460)


def _correct_groups(points: pd.DataFrame) -> list[tuple[pd.Series, str, str]]:
    groups = [
        (True, "correct", "#1b7837"),
        (False, "incorrect", "#c51b7d"),
        (None, "no gold label", "#888888"),
    ]
    out = []
    for value, name, color in groups:
        mask = points["correct"].isna() if value is None else points["correct"] == value
        out.append((mask.fillna(False).astype(bool), name, color))
    return out


TAG_COLORS = qualitative.Dark24


def _tag_groups(points: pd.DataFrame) -> list[tuple[pd.Series, str, str]]:
    """One group per tag combination (most examples first), untagged examples in grey."""
    tags = points["tag"].fillna("")
    named = tags[tags != ""].value_counts()
    out = [(tags == t, t, TAG_COLORS[i % len(TAG_COLORS)]) for i, t in enumerate(named.index)]
    return [*out, (tags == "", "no tag", "#bbbbbb")]


def head_grid(
    grid: np.ndarray,
    title: str,
    colorbar: str,
    selected: tuple[int, int] | None = None,
    signed: bool = True,
) -> FigureDict:
    """[layers, heads] heatmap (plain figure dict); layer 0 at the bottom; selected cell
    outlined."""
    layers, heads = grid.shape
    trace: TraceDict = {
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
    layout = layout_dict(title, 460)
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


def layout_dict(title: str, height: int) -> LayoutDict:
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


X_HOVER = {"k": "k = %{x}", "fraction": "deleted %{x:.0%}"}  # a deletion plot's hover x


def deletion_xaxis(x: np.ndarray, axis: str = "k", title: str = "") -> LayoutDict:
    """The x axis of a deletion plot: tokens deleted (a tick per k while the grid is dense,
    as before the grid reached beyond k = 20) or the deleted fraction of the content tokens."""
    if axis == "fraction":
        return {
            "title": {"text": "deleted fraction of the content tokens" + title},
            "tickformat": ".0%",
            "gridcolor": "#e8e8e8",
        }
    out: LayoutDict = {"title": {"text": "tokens deleted" + title}, "gridcolor": "#e8e8e8"}
    if len(x) and np.max(x) <= 20:
        out["dtick"] = 1
    return out


def deletion_curves(
    curves: dict[str, np.ndarray],
    spread: dict[str, np.ndarray] | None = None,
    title: str = "Deletion curves",
    x: np.ndarray | None = None,
    axis: str = "k",
) -> FigureDict:
    """Probability of the predicted class after deleting the top-k tokens at each ``x`` (the
    run's k grid, default 0..K; or deleted fractions with ``axis="fraction"``), one line per
    method; 'random' dashed grey; optional ± spread band. A plain figure dict."""
    data: list[TraceDict] = []
    longest = max((len(c) for c in curves.values()), default=0)
    xs = np.arange(longest) if x is None else np.asarray(x)
    for method, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        at = xs[: len(curve)]
        color = vocabulary.color_of(method)
        if spread is not None and method in spread:
            data.append(_band(at, curve, spread[method], color))
        data.append(
            {
                "type": "scatter",
                "x": at.tolist(),
                "y": [None if np.isnan(v) else float(v) for v in curve],
                "mode": "lines+markers",
                "name": method,
                "line": {
                    "color": color,
                    "width": 3,
                    "dash": "dash" if method == vocabulary.RANDOM.id else "solid",
                },
                "hovertemplate": X_HOVER[axis] + "<br>p = %{y:.4f}<extra>" + method + "</extra>",
            }
        )
    layout = layout_dict(title, 440)
    layout["xaxis"] = deletion_xaxis(xs, axis, " (top-k by the method)")
    layout["yaxis"] = {
        "title": {"text": "probability of predicted class"},
        "gridcolor": "#e8e8e8",
        "automargin": True,
    }
    return {"data": data, "layout": layout}


def _band(x: np.ndarray, curve: np.ndarray, spread: np.ndarray, color: str) -> TraceDict:
    """A ± ``spread`` band around ``curve`` (points without a value left out)."""
    keep = ~(np.isnan(curve) | np.isnan(spread))
    x, upper, lower = x[keep], (curve + spread)[keep], (curve - spread)[keep]
    return {
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

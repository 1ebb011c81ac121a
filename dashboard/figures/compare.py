"""Figures of the compare page (pure: arrays in, figures out): the distribution of run-vs-run
similarity per method, A / B / A−B heatmap trios (method-pair agreement, head grids) and both
runs' deletion curves on one plot. Every builder returns a plain ``FigureDict``, on purpose: no
plotly validation per request (see the package docstring)."""

from __future__ import annotations

import numpy as np

from attention_atlas.dashboard.figures import FigureDict
from attention_atlas.dashboard.figures.charts import DIVERGING, deletion_xaxis, layout_dict
from attention_atlas.models import vocabulary


def _z(matrix: np.ndarray) -> list:
    """A heatmap's z: rounded, NaN as None (JSON has no NaN)."""
    rounded = np.round(np.asarray(matrix, dtype=float), 4)
    return [[None if np.isnan(v) else float(v) for v in row] for row in rounded]


def similarity_distribution(
    values: np.ndarray, methods: list[str], source: np.ndarray, measure_label: str
) -> FigureDict:
    """One box per method of ``values`` [S, M] (every example a point; hover: its source
    index); the y axis is the similarity between the two runs' maps."""
    data = []
    for j, method in enumerate(methods):
        column = values[:, j]
        present = ~np.isnan(column)
        data.append(
            {
                "type": "box",
                "name": vocabulary.label_of(method),
                "y": column[present].round(4).tolist(),
                "customdata": source[present].tolist(),
                "boxpoints": "all",
                "jitter": 0.4,
                "pointpos": 0,
                "marker": {"color": vocabulary.color_of(method), "size": 5},
                "line": {"color": vocabulary.color_of(method)},
                "hovertemplate": "source %{customdata}<br>%{y:.3f}<extra>" + method + "</extra>",
            }
        )
    layout = layout_dict(f"{measure_label} between run A's and run B's maps, per example", 440)
    layout["yaxis"] = {"title": {"text": measure_label}, "range": [-1.05, 1.05]}
    layout["showlegend"] = False
    return {"data": data, "layout": layout}


def heatmap_trio(
    grids: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    titles: tuple[str, str, str],
    axes: tuple[list, list, str, str],
    title: str,
) -> FigureDict:
    """Three heatmaps side by side: A, B and A − B on one colour scale from −1 to 1 (A − B
    left out when None, e.g. for grids of different shapes). ``axes``: x tick labels, y tick
    labels, x title, y title."""
    x_labels, y_labels, x_title, y_title = axes
    panels = [g for g in grids if g is not None]
    data, layout = [], layout_dict(title, 430)
    width = 1 / len(panels)
    for i, grid in enumerate(panels):
        axis = "" if i == 0 else str(i + 1)
        data.append(
            {
                "type": "heatmap",
                "z": _z(grid),
                "x": x_labels,
                "y": y_labels,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "colorscale": DIVERGING,
                "zmin": -1,
                "zmax": 1,
                "showscale": i == len(panels) - 1,  # one bar: every panel spans the same range
                "colorbar": {"len": 0.8, "thickness": 14},
                "hovertemplate": titles[i] + "<br>%{y} / %{x}: %{z:.3f}<extra></extra>",
            }
        )
        domain = [i * width + 0.02, (i + 1) * width - 0.05]
        layout[f"xaxis{axis}"] = {
            "domain": domain,
            "anchor": f"y{axis}",
            "title": x_title,
            "dtick": 1,
        }
        layout[f"yaxis{axis}"] = {
            "anchor": f"x{axis}",
            "title": y_title if i == 0 else "",
            "dtick": 1,
        }
    layout["annotations"] = [
        {
            "text": titles[i],
            "x": (i + 0.5) * width,
            "y": 1.02,
            "xref": "paper",
            "yref": "paper",
            "showarrow": False,
            "yanchor": "bottom",
        }
        for i in range(len(panels))
    ]
    layout["margin"] = {"l": 90, "r": 120, "t": 80, "b": 90}
    return {"data": data, "layout": layout}


def deletion_overlay(
    curves_a: dict[str, np.ndarray],
    curves_b: dict[str, np.ndarray],
    grids: tuple[np.ndarray, np.ndarray] | None = None,
) -> FigureDict:
    """Mean deletion curves of both runs on one plot: A solid, B dotted, one colour per
    method (the random baseline grey in both), each at its run's k (``grids``, default
    0..K)."""
    data = []
    grid_a, grid_b = grids if grids is not None else (None, None)
    for run, curves, dash, grid in (
        ("A", curves_a, "solid", grid_a),
        ("B", curves_b, "dot", grid_b),
    ):
        for method, curve in curves.items():
            curve = np.asarray(curve, dtype=float)
            present = ~np.isnan(curve)
            k = np.arange(len(curve)) if grid is None else np.asarray(grid)[: len(curve)]
            data.append(
                {
                    "type": "scatter",
                    "x": k[present].tolist(),
                    "y": curve[present].round(5).tolist(),
                    "mode": "lines+markers",
                    "name": f"{method} ({run})",
                    "line": {"color": vocabulary.color_of(method), "width": 3, "dash": dash},
                    "hovertemplate": "k = %{x}<br>p = %{y:.4f}<extra>"
                    + f"{method}, run {run}</extra>",
                }
            )
    layout = layout_dict("Mean deletion curves: run A solid, run B dotted", 440)
    layout["xaxis"] = deletion_xaxis(
        np.concatenate([t["x"] for t in data]) if data else np.zeros(0),
        title=" (top-k by the method)",
    )
    layout["yaxis"] = {"title": {"text": "probability of predicted class"}}
    return {"data": data, "layout": layout}

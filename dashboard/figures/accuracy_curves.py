"""Pure figure builders for Karpekov & Miller's charts: accuracy curves (top-k solid, bottom-k
dashed, ``random`` dotted grey) and the consistency test's 2-D projection. Every builder returns
a plain ``FigureDict`` (:func:`accuracy_lines` its ``TraceDict`` traces, so two runs' lines can
be overlaid), on purpose, as ``charts.deletion_curves`` does: no plotly validation per request
(see the package docstring)."""

from __future__ import annotations

import numpy as np

from attention_atlas.dashboard.figures import FigureDict, TraceDict
from attention_atlas.dashboard.figures.charts import layout_dict
from attention_atlas.models import vocabulary

CLASS_COLORS = ("#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#555555")


def _line(curve: np.ndarray, name: str, color: str, dash: str, group: str) -> TraceDict:
    curve = np.asarray(curve, dtype=float)
    return {
        "type": "scatter",
        "x": np.arange(len(curve)).tolist(),
        "y": [None if np.isnan(v) else float(v) for v in curve],
        "mode": "lines+markers",
        "name": name,
        "legendgroup": group,
        "line": {"color": color, "width": 3, "dash": dash},
        "hovertemplate": "k = %{x}<br>relative accuracy = %{y:.3f}<extra>" + name + "</extra>",
    }


def accuracy_lines(
    top: dict[str, np.ndarray], bottom: dict[str, np.ndarray], suffix: str = ""
) -> list[TraceDict]:
    """Traces of one run's curves (``suffix`` names the run when two are overlaid)."""
    traces = []
    for method, curve in top.items():
        dash = "dot" if method == vocabulary.RANDOM.id else "solid"
        label = vocabulary.label_of(method) + (" top-k" if method in bottom else "")
        traces.append(_line(curve, label + suffix, vocabulary.color_of(method), dash, method))
    for method, curve in bottom.items():
        name = vocabulary.label_of(method) + " bottom-k" + suffix
        traces.append(_line(curve, name, vocabulary.color_of(method), "dash", method))
    return traces


def accuracy_figure(traces: list[TraceDict], title: str) -> FigureDict:
    """Relative accuracy (k = 0 is 1) against tokens deleted."""
    layout = layout_dict(title, 440)
    layout["xaxis"] = {"title": {"text": "tokens deleted (k)"}, "dtick": 1, "gridcolor": "#e8e8e8"}
    layout["yaxis"] = {
        "title": {"text": "accuracy relative to k = 0"},
        "gridcolor": "#e8e8e8",
        "automargin": True,
    }
    return {"data": traces, "layout": layout}


def consistency_scatter(
    xy: np.ndarray, labels: np.ndarray, ids: np.ndarray, label_names: list[str], title: str
) -> FigureDict:
    """The top-5 vectors' first two principal components, one colour per class; hover shows
    the example id."""
    traces = []
    for code in np.unique(labels).tolist():
        pick = labels == code
        name = label_names[code] if 0 <= code < len(label_names) else str(code)
        traces.append(
            {
                "type": "scattergl",
                "x": xy[pick, 0].tolist(),
                "y": xy[pick, 1].tolist(),
                "customdata": ids[pick].tolist(),
                "mode": "markers",
                "name": name,
                "marker": {"color": CLASS_COLORS[code % len(CLASS_COLORS)], "size": 7},
                "opacity": 0.7,
                "hovertemplate": "example %{customdata}<extra>" + name + "</extra>",
            }
        )
    layout = layout_dict(title, 440)
    layout["xaxis"] = {"title": {"text": "PC 1"}, "gridcolor": "#e8e8e8", "zeroline": False}
    layout["yaxis"] = {"title": {"text": "PC 2"}, "gridcolor": "#e8e8e8", "zeroline": False}
    return {"data": traces, "layout": layout}

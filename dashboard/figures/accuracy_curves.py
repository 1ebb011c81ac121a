"""Pure figure builders for Karpekov & Miller's charts: accuracy curves (top-k solid, bottom-k
dashed, ``random`` dotted grey) and the consistency test's 2-D projection. Every builder returns
a plain ``FigureDict`` (:func:`accuracy_lines` its ``TraceDict`` traces, so two runs' lines can
be overlaid), on purpose, as ``charts.deletion_curves`` does: no plotly validation per request
(see the package docstring)."""

from __future__ import annotations

import numpy as np

from attention_atlas.dashboard.figures import FigureDict, TraceDict
from attention_atlas.dashboard.figures.charts import X_HOVER, deletion_xaxis, layout_dict
from attention_atlas.models import vocabulary

CLASS_COLORS = ("#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#555555")


def _line(
    curve: np.ndarray,
    name: str,
    style: tuple[str, str],
    group: str,
    x: np.ndarray | None,
    axis: str,
) -> TraceDict:
    color, dash = style
    curve = np.asarray(curve, dtype=float)
    at = np.arange(len(curve)) if x is None else np.asarray(x)[: len(curve)]
    return {
        "type": "scatter",
        "x": at.tolist(),
        "y": [None if np.isnan(v) else float(v) for v in curve],
        "mode": "lines+markers",
        "name": name,
        "legendgroup": group,
        "line": {"color": color, "width": 3, "dash": dash},
        "hovertemplate": X_HOVER[axis]
        + "<br>relative accuracy = %{y:.3f}<extra>"
        + name
        + "</extra>",
    }


def accuracy_lines(
    top: dict[str, np.ndarray],
    bottom: dict[str, np.ndarray],
    suffix: str = "",
    x: np.ndarray | None = None,
    axis: str = "k",
) -> list[TraceDict]:
    """Traces of one run's curves at ``x`` (its k grid or the fractions; default 0..K);
    ``suffix`` names the run when two are overlaid."""
    traces = []
    for method, curve in top.items():
        dash = "dot" if method == vocabulary.RANDOM.id else "solid"
        label = vocabulary.label_of(method) + (" top-k" if method in bottom else "")
        style = (vocabulary.color_of(method), dash)
        traces.append(_line(curve, label + suffix, style, method, x, axis))
    for method, curve in bottom.items():
        name = vocabulary.label_of(method) + " bottom-k" + suffix
        traces.append(_line(curve, name, (vocabulary.color_of(method), "dash"), method, x, axis))
    return traces


def accuracy_figure(traces: list[TraceDict], title: str, axis: str = "k") -> FigureDict:
    """Relative accuracy (k = 0 is 1) against tokens deleted or the deleted fraction."""
    layout = layout_dict(title, 440)
    xs = [v for t in traces for v in t["x"]]
    layout["xaxis"] = deletion_xaxis(np.asarray(xs), axis, " (k)" if axis == "k" else "")
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

"""The heads page's role grid and its sentiment vs structure chart (plain figure dicts): arrays
in, figures out. The importance grid is :func:`charts.head_grid` (unsigned)."""

from __future__ import annotations

import numpy as np

from attention_atlas.dashboard.figures import FigureDict, TraceDict
from attention_atlas.dashboard.figures.charts import layout_dict
from attention_atlas.db.analysis.head_roles import ROLE_STATS, ROLES

# one colour per role, in ROLES order (previous, self, sink, punctuation, broad, mixed)
ROLE_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#d9d9d9")
SHORT = {"previous": "prev", "punctuation": "punct", "mixed": "·"}  # cell text


def _discrete_scale() -> list[list[float | str]]:
    """A stepped colour scale mapping role index i (0..R-1) to ROLE_COLORS[i]."""
    n = len(ROLES)
    scale: list[list[float | str]] = []
    for i, color in enumerate(ROLE_COLORS):
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


def _outline(selected: tuple[int, int] | None) -> list[dict]:
    if selected is None:
        return []
    layer, head = selected
    box = {"x0": head - 0.5, "x1": head + 0.5, "y0": layer - 0.5, "y1": layer + 0.5}
    return [{"type": "rect", **box, "line": {"color": "black", "width": 3}}]


def role_grid(
    labels: np.ndarray, stats: np.ndarray, title: str, selected: tuple[int, int] | None = None
) -> FigureDict:
    """[layers, heads] role names (``labels``) coloured by role, the five mean statistics
    ``stats`` [layers, heads, 5] in the hover; layer 0 at the bottom."""
    layers, heads = labels.shape
    index = np.vectorize(ROLES.index)(labels).astype(float)
    hover = [
        [
            "<br>".join(
                [f"layer {layer}, head {head}: <b>{labels[layer, head]}</b>"]
                + [f"{name} = {stats[layer, head, k]:.2f}" for k, name in enumerate(ROLE_STATS)]
            )
            for head in range(heads)
        ]
        for layer in range(layers)
    ]
    trace: TraceDict = {
        "type": "heatmap",
        "z": index.tolist(),
        "x": list(range(heads)),
        "y": list(range(layers)),
        "zmin": -0.5,
        "zmax": len(ROLES) - 0.5,
        "colorscale": _discrete_scale(),
        "text": [[SHORT.get(str(v), str(v)) for v in row] for row in labels],
        "texttemplate": "%{text}",
        "customdata": hover,
        "hovertemplate": "%{customdata}<extra></extra>",
        "colorbar": {
            "tickvals": list(range(len(ROLES))),
            "ticktext": list(ROLES),
        },
    }
    layout = layout_dict(title, 460)
    layout["xaxis"] = {"title": {"text": "head"}, "dtick": 1}
    layout["yaxis"] = {"title": {"text": "layer"}, "dtick": 1}
    layout["shapes"] = _outline(selected)
    return {"data": [trace], "layout": layout}


def sentiment_structure(
    top_share: np.ndarray | None, structure: np.ndarray, reference: str, title: str
) -> FigureDict:
    """Per layer ([L] each), the prediction row's mean attention share on ``reference``'s
    top-10% tokens and on frame and punctuation tokens."""
    layers = list(range(len(structure)))
    traces: list[TraceDict] = []
    if top_share is not None:
        traces.append(_line(layers, top_share, f"{reference} top 10% tokens", "#b2182b"))
    traces.append(_line(layers, structure, "frame + punctuation tokens", "#2166ac"))
    layout = layout_dict(title, 420)
    layout["xaxis"] = {"title": {"text": "layer"}, "dtick": 1}
    layout["yaxis"] = {"title": {"text": "share of the prediction row's attention"}}
    layout["legend"] = {"orientation": "h", "y": -0.25}
    return {"data": traces, "layout": layout}


def _line(x: list[int], y: np.ndarray, name: str, color: str) -> TraceDict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": x,
        "y": np.asarray(y, dtype=float).round(4).tolist(),
        "name": name,
        "line": {"color": color, "width": 3},
        "hovertemplate": "layer %{x}<br>" + name + " = %{y:.3f}<extra></extra>",
    }

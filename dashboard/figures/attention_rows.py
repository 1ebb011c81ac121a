"""The example's attention when the full token x token tensor was not stored (long examples).

Ingest keeps the full [layers, heads, tokens, tokens] tensor only up to a length cap; the
prediction position's rows [layers, heads, tokens] are always there. This figure shows them as
layers x tokens, for one head or the mean over heads: where the prediction position reads from,
layer by layer, along the whole text. Columns are token positions, so a click pins that token
in the tracks (the click's ``customdata`` is the position) and the pinned token is outlined.
:func:`prediction_rows` returns a plain ``FigureDict``, on purpose: no plotly validation per
request (see the package docstring).
"""

from __future__ import annotations

import numpy as np

from attention_atlas.dashboard import inputs
from attention_atlas.dashboard.figures import FigureDict
from attention_atlas.dashboard.figures.charts import SEQUENTIAL, layout_dict

NOTE = "the full token x token matrix is not stored for examples this long"


def prediction_rows(
    rows: np.ndarray,
    tokens: list[str],
    keep: np.ndarray,
    layer: int | None,
    head: int | None,
    token: int | None = None,
    first_layer: int = 0,
    note: str | None = None,
) -> FigureDict:
    """Layers x kept tokens of ``rows`` ([L, H, T]): head ``head`` or the mean over heads
    (None); ``layer`` and the position ``token`` outlined. A plain figure dict. ``rows`` may
    hold the model's layers from ``first_layer`` on only (``--attention-rows last``), which
    ``note`` says."""
    positions = np.flatnonzero(keep)
    picked = rows[:, head] if head is not None else rows.mean(axis=1)  # [L, T]
    z = np.asarray(picked, dtype=np.float32)[:, positions].round(5)
    n_layers = z.shape[0]
    words = np.array(tokens, dtype=object)[positions]
    hover = [f"{w} (position {p})" for w, p in zip(words, positions, strict=True)]
    trace = {
        "type": "heatmap",
        "z": z.tolist(),
        "x": list(range(len(positions))),
        "y": list(range(first_layer, first_layer + n_layers)),
        "customdata": [positions.tolist()] * n_layers,
        "text": [hover] * n_layers,
        "colorscale": SEQUENTIAL,
        "zmin": 0,
        "colorbar": {"title": {"text": "attention weight", "side": "right"}},
        "hovertemplate": "%{text}<br>layer %{y}<br>weight = %{z:.4f}<extra></extra>",
    }
    which = "mean over heads" if head is None else f"head {head}"
    title = f"Prediction position's attention by layer, {which}<br><sup>{NOTE}</sup>"
    title += f"<br><sup>{note}</sup>" if note else ""
    layout = layout_dict(title, 170 + 26 * n_layers)
    layout["xaxis"] = {"title": {"text": "token (hover for the word, click to pin)"}}
    layout["yaxis"] = {"title": {"text": "layer"}, "dtick": 1}
    layout["shapes"] = _outlines(positions, n_layers, layer, token, first_layer)
    return {"data": [trace], "layout": layout}


def _outlines(
    positions: np.ndarray, n_layers: int, layer: int | None, token: int | None, first: int
) -> list[dict]:
    shapes = []
    bottom, top = first - 0.5, first + n_layers - 0.5
    if token is not None and token in positions:
        x = int(np.flatnonzero(positions == token)[0])
        shapes.append(_rect(x - 0.5, x + 0.5, bottom, top, "#e66101"))
    if layer is not None and first <= layer < first + n_layers:
        shapes.append(_rect(-0.5, len(positions) - 0.5, layer - 0.5, layer + 0.5, "black"))
    return shapes


def _rect(x0: float, x1: float, y0: float, y1: float, color: str) -> dict:
    return {
        "type": "rect",
        "x0": x0,
        "x1": x1,
        "y0": y0,
        "y1": y1,
        "line": {"color": color, "width": 2},
    }


def clicked_position(event: object, limit: int) -> int | None:
    """The token position of a click on :func:`prediction_rows` (its ``customdata``) or on the
    token x token heatmap (the key's position in its customdata), when it is below ``limit``
    (the example's length); None for anything else."""
    data = inputs.first_point(event).get("customdata")
    if isinstance(data, list) and len(data) == 2:  # the token x token heatmap: [text, position]
        data = data[1]
    position = inputs.as_int(data, 0, max(limit - 1, 0))
    return position if limit > 0 else None

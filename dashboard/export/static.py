"""An example as one static picture (PNG or SVG) for a slide.

The picture is one plotly figure composed of the page's panels (:func:`dashboard.export.standalone.
panel_figures`) under a token panel (the text once per method, coloured as on the page): each
panel's traces, axes and shapes move onto their own axes of the composed figure. It is drawn by
kaleido (v1), which renders plotly figures in a Chrome / Chromium already on the machine
(Debian's ``/usr/bin/chromium``, or the one ``BROWSER_PATH`` names); it never downloads one.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from attention_atlas.dashboard.export.standalone import (
    ExampleExport,
    ExportError,
    ExportOptions,
    content_mask,
    panel_figures,
    shown_attributions,
    summary_line,
)
from attention_atlas.dashboard.figures.charts import DIVERGING, FONT, SEQUENTIAL
from attention_atlas.models import vocabulary

WIDTH = 1400  # px
TOKENS_PER_LINE = 14
ROW_PX = 28
GAP_PX = 70  # above each panel: its title
STATIC_FORMATS = ("png", "svg")


def token_panel(tokens: list[str], attributions: dict[str, np.ndarray], keep: np.ndarray) -> dict:
    """The kept tokens once per method as a heatmap of coloured cells with the token as text,
    wrapped into lines of :data:`TOKENS_PER_LINE`; each method scaled to its own max |score|
    (signed: blue-white-red, attention-like: white-purple), as the page's rows."""
    positions = np.flatnonzero(keep)
    methods = list(attributions)
    n_lines = max(1, -(-len(positions) // TOKENS_PER_LINE))
    stride = len(methods) + 1  # a blank row between lines
    n_rows = n_lines * stride - 1
    data = []
    for i, method in enumerate(methods):
        values = np.asarray(attributions[method], dtype=float)[positions]
        scale = float(np.max(np.abs(values))) if values.size else 1.0
        z = np.full((n_rows, TOKENS_PER_LINE), np.nan)
        text = np.full((n_rows, TOKENS_PER_LINE), "", dtype=object)
        raw = np.full((n_rows, TOKENS_PER_LINE), np.nan)
        for j, (pos, value) in enumerate(zip(positions, values, strict=True)):
            row, col = (j // TOKENS_PER_LINE) * stride + i, j % TOKENS_PER_LINE
            z[row, col] = value / (scale or 1.0)
            text[row, col], raw[row, col] = tokens[pos], value
        signed = method in vocabulary.signed_method_ids()
        data.append(
            {
                "type": "heatmap",
                "z": _nulls(z),
                "text": text.tolist(),
                "customdata": _nulls(raw),
                "texttemplate": "%{text}",
                "textfont": {"size": 13},
                "colorscale": DIVERGING if signed else SEQUENTIAL,
                "zmin": -1 if signed else 0,
                "zmax": 1,
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "name": method,
                "hovertemplate": "%{text}: %{customdata:.4f}<extra>" + method + "</extra>",
            }
        )
    labels = [methods[r % stride] if r % stride < len(methods) else "" for r in range(n_rows)]
    layout = {
        "title": {"text": "Tokens per method (each row scaled to its own max |score|)"},
        "height": ROW_PX * n_rows,
        "xaxis": {"visible": False},
        "yaxis": {
            "autorange": "reversed",
            "tickvals": list(range(n_rows)),
            "ticktext": labels,
            "showgrid": False,
            "zeroline": False,
            "ticks": "",
        },
    }
    return {"data": data, "layout": layout}


def _nulls(values: np.ndarray) -> list:
    return [[None if np.isnan(v) else float(v) for v in row] for row in values]


def slide_figure(export: ExampleExport, options: ExportOptions) -> dict:
    """The token panel, then attention heatmap | head grid, then the deletion curve, under a
    title that names the example, the run, the gold label and the prediction (as the HTML
    export's summary line)."""
    panels = panel_figures(export, options)
    tokens = token_panel(
        export.detail.tokens, shown_attributions(export, options), content_mask(export)
    )
    title = f"Example {export.detail.id} · run {export.run.name} · {summary_line(export)}"
    rows = [[tokens], [panels["attention"], panels["head_grid"]], [panels["deletion"]]]
    return compose(rows, title)


def _height(figure: dict) -> int:
    layout = figure.get("layout", {})
    margin = layout.get("margin", {})
    return int(layout.get("height", 400)) - int(margin.get("t", 0)) - int(margin.get("b", 0))


def _bottom(figure: dict) -> int:
    """Pixels under a panel for its x tick labels and axis title."""
    return max(40, int(figure.get("layout", {}).get("margin", {}).get("b", 60)))


def compose(rows: list[list[dict]], title: str) -> dict:
    """Figures (plain dicts with one x and one y axis each) laid out in ``rows`` of one or two
    panels, as one figure dict of :data:`WIDTH` px."""
    heights = [max(_height(f) for f in row) for row in rows]
    bottoms = [max(_bottom(f) for f in row) for row in rows]
    total = sum(heights) + sum(bottoms) + GAP_PX * len(rows)
    out: dict[str, Any] = {"data": [], "layout": _layout(title, total)}
    top, n = 0, 0
    for row, height, bottom in zip(rows, heights, bottoms, strict=True):
        top += GAP_PX
        y = (1 - (top + height) / total, 1 - top / total)
        width = 1 / len(row)
        for k, figure in enumerate(row):
            n += 1
            x = (k * width + (0.07 if k else 0), (k + 1) * width - 0.09)
            _place(out, copy.deepcopy(figure), n, x, y)
        top += height + bottom
    return out


def _layout(title: str, plot_height: int) -> dict:
    margin = {"l": 170, "r": 40, "t": 60, "b": 20}
    return {
        "title": {"text": title, "x": 0.01},
        "font": FONT,
        "width": WIDTH,
        "height": plot_height + margin["t"] + margin["b"],
        "margin": margin,
        "template": "none",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "annotations": [],
        "shapes": [],
        "legend": {"xanchor": "left", "yanchor": "top"},
    }


def _place(out: dict, figure: dict, n: int, x: tuple, y: tuple) -> None:
    """Move ``figure``'s traces, axes, shapes and annotations onto axes x<n>/y<n> at the
    paper domain ``x`` by ``y``."""
    layout = figure.get("layout", {})
    for trace in figure.get("data", []):
        trace["xaxis"], trace["yaxis"] = f"x{n}", f"y{n}"
        if trace.get("type") == "heatmap" and trace.get("showscale", True):
            bar = trace.setdefault("colorbar", {})
            bar.update({"x": x[1] + 0.01, "y": sum(y) / 2, "len": y[1] - y[0], "thickness": 14})
        if trace.get("type") == "scatter" and trace.get("showlegend", True):
            out["layout"]["legend"].update({"x": x[1] + 0.01, "y": y[1]})
        out["data"].append(trace)
    out["layout"][f"xaxis{n}"] = {**layout.get("xaxis", {}), "domain": list(x), "anchor": f"y{n}"}
    out["layout"][f"yaxis{n}"] = {**layout.get("yaxis", {}), "domain": list(y), "anchor": f"x{n}"}
    for shape in layout.get("shapes", []):
        out["layout"]["shapes"].append({**shape, "xref": f"x{n}", "yref": f"y{n}"})
    for note in layout.get("annotations", []):  # an empty figure's message
        out["layout"]["annotations"].append(
            {**note, "xref": "paper", "yref": "paper", "x": sum(x) / 2, "y": sum(y) / 2}
        )
        out["layout"][f"xaxis{n}"]["visible"] = out["layout"][f"yaxis{n}"]["visible"] = False
    text = (layout.get("title") or {}).get("text")
    if text:
        out["layout"]["annotations"].append(
            {
                "text": f"<b>{text}</b>",
                "x": x[0],
                "y": y[1],
                "xref": "paper",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": 8,
                "showarrow": False,
                "align": "left",
            }
        )


def render_image(figure: dict, fmt: str) -> bytes:
    """``figure`` as PNG (2x scale) or SVG bytes, drawn by kaleido in the system's Chromium.
    Raises :class:`ExportError` when no browser is found or the format is unknown."""
    if fmt not in STATIC_FORMATS:
        raise ExportError(f"unknown image format {fmt!r}; use one of {', '.join(STATIC_FORMATS)}")
    import kaleido
    from choreographer.browsers.chromium import ChromeNotFoundError

    layout = figure["layout"]
    opts = {"format": fmt, "width": layout["width"], "height": layout["height"]}
    if fmt == "png":
        opts["scale"] = 2
    try:
        return kaleido.calc_fig_sync(figure, opts=opts, kopts={"mathjax": False})
    except ChromeNotFoundError as exc:
        raise ExportError(
            "PNG and SVG need Chrome or Chromium (apt-get install chromium, or set "
            "BROWSER_PATH to a Chrome executable); --format html needs none"
        ) from exc

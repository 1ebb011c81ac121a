"""Pure figure builders: arrays and DataFrames in, plotly figures out; no dash, flask or
sqlalchemy here (an import-linter contract holds it), so each builder is tested on its own.

Two kinds of figure come out, and each builder's return annotation says which:

- ``plotly.graph_objects.Figure`` from the three builders that lean on plotly's helpers
  (``charts.agreement_scatter``: select box and threshold lines; ``charts.layer_trend``;
  ``charts.empty_figure``, the placeholder every page shows when there is nothing to draw);
- :data:`FigureDict`, a plain ``{"data": [...], "layout": {...}}`` dict, from every other
  builder: ``charts.head_grid`` and ``charts.deletion_curves`` and all of ``example``,
  ``attention_rows``, ``compare`` and ``accuracy_curves``. This is deliberate, for speed:
  building a ``go.Figure`` validates every property (4 ms for the deletion curves, 19 ms for
  the top-k bars, 50 ms for a 60-token attention heatmap), and the example page draws several
  per request. ``dcc.Graph`` takes either kind unchanged, so do not wrap
  these dicts in ``go.Figure``.

Their parts are plain dicts too: :data:`LayoutDict` (``charts.layout_dict``, the shared look)
and :data:`TraceDict`.
"""

from typing import Any

FigureDict = dict[str, Any]  # {"data": list[TraceDict], "layout": LayoutDict}, JSON-ready
LayoutDict = dict[str, Any]  # a plotly layout: title, font, axes, shapes, annotations
TraceDict = dict[str, Any]  # one plotly trace: {"type": "scatter" | "heatmap" | ..., ...}

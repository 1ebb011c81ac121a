"""The plausibility view's figure: plausibility against faithfulness, one point per method.

Each method (and the random order, the baseline) is one point: x its mean faithfulness
(comprehensiveness or sufficiency), y its mean plausibility against the human rationale, both
over the same filtered examples, with ± 1 standard error bars on both axes. Upper right (for
comprehensiveness) is "plausible and faithful"; a method high on y but at random's x looks
right to people without the model relying on those tokens. A plain figure dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from attention_atlas.dashboard.figures import FigureDict, TraceDict
from attention_atlas.dashboard.figures.charts import layout_dict
from attention_atlas.models import vocabulary


@dataclass(frozen=True)
class MethodPoint:
    """One method's means and standard errors over ``n`` examples."""

    method: str
    n: int
    x: float
    x_se: float
    y: float
    y_se: float


def plausibility_vs_faithfulness(
    points: Sequence[MethodPoint], x_title: str, y_title: str, title: str
) -> FigureDict:
    """One marker per method with error bars; the random baseline as an open grey marker."""
    data: list[TraceDict] = []
    for p in points:
        baseline = p.method == vocabulary.RANDOM.id
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": vocabulary.label_of(p.method),
                "x": [p.x],
                "y": [p.y],
                "text": [vocabulary.label_of(p.method)],
                "textposition": "top center",
                "error_x": {"type": "data", "array": [p.x_se], "visible": True},
                "error_y": {"type": "data", "array": [p.y_se], "visible": True},
                "marker": {
                    "size": 13,
                    "color": vocabulary.color_of(p.method),
                    "symbol": "circle-open" if baseline else "circle",
                    "line": {"width": 2, "color": vocabulary.color_of(p.method)},
                },
                "hovertemplate": (
                    f"{vocabulary.label_of(p.method)} ({p.n} examples)<br>"
                    f"{x_title}: %{{x:.3f}} ± {p.x_se:.3f}<br>"
                    f"{y_title}: %{{y:.3f}} ± {p.y_se:.3f}<extra></extra>"
                ),
            }
        )
    layout = layout_dict(title, 460)
    layout["xaxis"] = {"title": {"text": x_title}, "gridcolor": "#e8e8e8", "automargin": True}
    layout["yaxis"] = {"title": {"text": y_title}, "gridcolor": "#e8e8e8", "automargin": True}
    layout["showlegend"] = False
    return {"data": data, "layout": layout}

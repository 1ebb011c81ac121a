"""Faithfulness page ``/faithfulness``: mean deletion curves and ERASER scores per method.

Mean curves come from the per-run cached stack of deletion curves (numpy over the filtered
ids); comprehensiveness / sufficiency means come from SQL; AOPC is the mean drop of the deletion
curve, mean over k = 1..K of (p_0 - p_k).
"""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import dcc, html

from dashboard import figures, ids
from dashboard.data import service
from dashboard.provenance import run_provenance
from dashboard.urlstate import FaithfulnessState
from db import queries, stacks


def faithfulness_view(state: FaithfulnessState, run: queries.RunInfo | None):  # noqa: ANN201
    """(figure, table DataFrame) over the current filter of ``run``."""
    data = service()
    if run is None:
        return figures.empty_figure("no run"), pd.DataFrame()
    f = state.corpus.to_filter(run.id)
    ids_all, methods, curves = data.deletion_stack(run)
    wanted = data.ids(run, f, "id", False)
    if curves is None or len(wanted) == 0:
        return figures.empty_figure("no faithfulness rows match the filter"), pd.DataFrame()
    subset = stacks.take(ids_all, curves, wanted)  # [N, M, K+1]
    mean = np.nanmean(subset, axis=0)
    spread = np.nanstd(subset, axis=0) / np.sqrt(max(len(subset), 1))  # standard error
    fig = figures.deletion_curves(
        {m: mean[i] for i, m in enumerate(methods)},
        {m: spread[i] for i, m in enumerate(methods)},
        f"Mean deletion curves over {len(subset)} examples (band: ± 1 standard error)",
    )
    aopc = np.nanmean(subset[:, :, :1] - subset[:, :, 1:], axis=(0, 2))
    table = data.faithfulness_table(run, f)  # means over the cached per-run stack
    table["aopc"] = table["method"].map(dict(zip(methods, aopc.astype(float), strict=True)))
    order = {m: i for i, m in enumerate(methods)}
    table = table.astype({"aopc": float}).sort_values("method", key=lambda s: s.map(order)).round(4)
    return fig, table


def layout(**query: Any) -> html.Div:
    state = FaithfulnessState.parse(query)
    run = service().run(state.corpus.run)
    fig, table = faithfulness_view(state, run)
    header = ["method", "examples", "comprehensiveness ↑", "sufficiency ↓", "AOPC (deletion) ↑"]
    body = [html.Tr([html.Td(v) for v in row]) for row in table.itertuples(index=False)]
    return html.Div(
        [
            dcc.Store(id=ids.STATE, data=state.to_search()),
            html.H2("Faithfulness over the current filter", className="page-title"),
            run_provenance(run),
            dcc.Graph(figure=fig, id=ids.FA_CURVES),
            html.Table(
                [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)],
                id=ids.FA_TABLE,
                className="score-table",
            ),
            html.P(
                "'random' deletes tokens in a seeded random order: a method is faithful "
                "to the extent its curve falls faster than random.",
                className="muted",
            ),
        ]
    )


def register_callbacks(app: dash.Dash) -> None:
    """No callbacks: the page is a pure function of its URL."""


# Registered last so the registry holds this module's layout (no folder scan).
dash.register_page(
    __name__,
    path="/faithfulness",
    title="Attention Atlas: faithfulness",
    name="Faithfulness",
    nav=3,
    layout=layout,
)

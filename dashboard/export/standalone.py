"""An example exported for slides: a standalone HTML file built from the example page's own
builders (method tracks, attention heatmap, head grid, deletion curve).

The HTML opens offline with no server: plotly.js, the dashboard's CSS and its token-hover and
overview scripts are inlined, and nothing is fetched from a URL. :func:`load_export` reads what
an export draws in one session; :func:`export_options` checks the user's choices against the
example; :func:`standalone_html` builds the file. PNG and SVG (one composed figure) are in
:mod:`attention_atlas.dashboard.export.static`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from importlib.resources import files

import numpy as np
import plotly.io as pio
from sqlalchemy.orm import Session

from attention_atlas.dashboard import display_text, example_tokens
from attention_atlas.dashboard.figures import charts as figures
from attention_atlas.dashboard.figures import example as example_figures
from attention_atlas.dashboard.urlstate import ExampleState
from attention_atlas.db import example_queries, plausibility_reads, queries
from attention_atlas.models import vocabulary
from attention_atlas.models.deletion_grid import grid_of

ASSETS_PACKAGE = "attention_atlas.dashboard.assets"
PAGE_CSS = """
body { max-width: 1400px; margin: 0 auto; padding: 16px 24px; }
.export-meta { color: #555; font-size: 14px; }
.export-figures { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
"""
LEGEND = (
    '<div class="tok-legend"><span class="legend-label">signed methods:</span>'
    '<span class="legend-bar legend-div-neg">− toward other class</span>'
    '<span class="legend-bar legend-div-pos">+ toward prediction</span>'
    '<span class="legend-label">attention-like:</span>'
    '<span class="legend-bar legend-seq">0 → max weight</span>'
    '<span class="legend-note">(each row scaled to its own max |score|; hover a token for its '
    "value)</span></div>"
)


class ExportError(ValueError):
    """A choice the example cannot satisfy (a user error: exit code 2)."""


@dataclass(frozen=True)
class ExampleExport:
    """Everything an export of one example draws."""

    detail: example_queries.ExampleDetail
    run: queries.RunInfo
    attributions: dict[str, np.ndarray]  # method -> [T], registry order
    rows: np.ndarray | None  # [L, H, T] prediction-position attention
    full: np.ndarray | None  # [L, H, T, T] or None (long examples)
    grids: dict[str, np.ndarray]  # reference method -> [L, H]
    deletion: dict[str, np.ndarray]  # method -> [K+1], ``random`` last
    rationale: np.ndarray | None = None  # [T] bool human rationale (its own track), or None


@dataclass(frozen=True)
class ExportOptions:
    """What to draw: methods (None: every stored one), layer / head (None: the mean), the head
    grid's reference method."""

    methods: tuple[str, ...] | None = None
    layer: int | None = None
    head: int | None = None
    ref: str = vocabulary.default_reference()


def load_export(session: Session, example_id: int) -> ExampleExport | None:
    """The stored data of example ``example_id``; None when there is no such example."""
    detail = example_queries.example_detail(session, example_id)
    if detail is None:
        return None
    run = queries.get_run(session, detail.run_id)
    if run is None:  # not while the example exists: its run_id is a foreign key
        return None
    rows, full = example_queries.example_attention(session, example_id)
    frame = example_queries.example_faithfulness(session, example_id)
    curves = dict(zip(frame["method"], frame["deletion"], strict=True))
    return ExampleExport(
        detail=detail,
        run=run,
        attributions=example_queries.example_attributions(session, example_id),
        rows=rows,
        full=full,
        grids=example_queries.example_head_scores(session, example_id),
        deletion={m: np.asarray(curves[m]) for m in vocabulary.with_random_last(curves)},
        rationale=_marked(plausibility_reads.example_rationale(session, example_id)),
    )


def _marked(rationale: plausibility_reads.RationaleInfo | None) -> np.ndarray | None:
    return rationale.mask if rationale is not None and rationale.marked else None


def export_options(
    export: ExampleExport,
    methods: tuple[str, ...] | None = None,
    layer: int | None = None,
    head: int | None = None,
    ref: str | None = None,
) -> ExportOptions:
    """Options checked against the example: stored methods, layers and heads it has."""
    detail = export.detail
    missing = [m for m in methods or () if m not in export.attributions]
    if missing:
        stored = ", ".join(export.attributions) or "none"
        raise ExportError(f"method(s) {', '.join(missing)} not stored for this example: {stored}")
    for name, value, limit in (
        ("layer", layer, detail.num_layers),
        ("head", head, detail.num_heads),
    ):
        if value is not None and not 0 <= value < limit:
            raise ExportError(
                f"--{name} {value} is out of range: 0 to {limit - 1} ({limit} {name}s)"
            )
    ref = ref or vocabulary.default_reference()
    return ExportOptions(tuple(methods) if methods else None, layer, head, ref)


def shown_attributions(export: ExampleExport, options: ExportOptions) -> dict[str, np.ndarray]:
    methods = options.methods or tuple(export.attributions)
    return {m: export.attributions[m] for m in vocabulary.in_order(methods)}


def content_mask(export: ExampleExport) -> np.ndarray:
    """[T] bool: the positions the page shows by default (special tokens hidden)."""
    return ~np.asarray(export.detail.special_mask, dtype=bool)


def panel_figures(export: ExampleExport, options: ExportOptions) -> dict[str, dict]:
    """The page's figures for this export: attention, head grid, deletion curves."""
    keep = content_mask(export)
    if export.rows is None:
        attention = figures.empty_figure("no attention stored").to_plotly_json()
    else:
        attention = example_figures.stored_attention_view(
            export.rows,
            export.full,
            export.detail.num_layers,
            export.detail.tokens,
            keep,
            options.layer,
            options.head,
            clickable=False,  # no server answers a click in a file
        )
    grid = export.grids.get(options.ref)
    layer, head = options.layer, options.head
    selected = (layer, head) if layer is not None and head is not None else None
    head_grid = (
        figures.head_grid(
            grid, f"Head ρ with {options.ref}", f"Spearman ρ with {options.ref}", selected
        )
        if grid is not None
        else figures.empty_figure("no head scores stored").to_plotly_json()
    )
    wanted = set(shown_attributions(export, options)) | {vocabulary.RANDOM.id}
    curves = {m: c for m, c in export.deletion.items() if m in wanted}
    longest = max((len(c) for c in curves.values()), default=0)
    k = grid_of(export.run.settings).first(longest)
    deletion = (
        figures.deletion_curves(curves, title="Deletion curve of this example", x=k)
        if curves
        else figures.empty_figure("no faithfulness curves stored").to_plotly_json()
    )
    return {"attention": attention, "head_grid": head_grid, "deletion": deletion}


def token_rows_html(export: ExampleExport, options: ExportOptions) -> str:
    """The overview strip and the aligned tracks (a human rationale first), as on the example
    page (word view for long texts); ``#example-tokens`` so the page's hover and overview
    scripts work."""
    shown = shown_attributions(export, options)
    if not shown:
        return '<p class="muted">No attributions stored for this example.</p>'
    body = example_tokens.tracks(export.detail, shown, ExampleState(), export.rationale)
    return f'{LEGEND}<div id="example-tokens">{body}</div>'


def summary_line(export: ExampleExport) -> str:
    detail = export.detail
    names = detail.label_names
    gold = names[detail.label] if detail.label is not None else "–"
    return f"Gold: {gold} · Prediction: {names[detail.prediction]} (p = {detail.confidence:.3f})"


def _asset(name: str) -> str:
    return files(ASSETS_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _figure_div(figure: dict, div_id: str, first: bool) -> str:
    return pio.to_html(
        figure,
        include_plotlyjs=first,  # inline plotly.js once, in the first figure
        full_html=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )


def standalone_html(export: ExampleExport, options: ExportOptions) -> str:
    """The whole export as one HTML document (UTF-8), with no external reference."""
    detail, run = export.detail, export.run
    panels = panel_figures(export, options)
    divs = [
        _figure_div(fig, f"export-{name}", i == 0) for i, (name, fig) in enumerate(panels.items())
    ]
    meta = json.dumps({"example": detail.id, "run": run.id})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Attention Atlas: example {detail.id}</title>
<style>{_asset("atlas.css")}{_asset("tracks.css")}{PAGE_CSS}</style>
<script type="application/json" id="export-meta">{meta}</script>
</head><body>
<h2 class="page-title">Example {detail.id}</h2>
<p class="export-meta">Run {escape(run.name)} (id {run.id}) · {escape(run.checkpoint)}
· {escape(summary_line(export))}</p>
{_text_html(detail)}
<div class="tokens-box">{token_rows_html(export, options)}</div>
<div class="export-figures">{divs[0]}{divs[1]}</div>
{divs[2]}
<script>{_asset("atlas.js")}{_asset("tracks.js")}</script>
</body></html>
"""


def _text_html(detail: example_queries.ExampleDetail) -> str:
    """The text panel as static HTML: a sentence pair as two paragraphs under their names."""
    if not detail.is_pair:
        return f'<p class="example-text">{display_text.html_text(detail.text)}</p>'
    parts = zip(detail.segment_names, (detail.text, detail.text_pair or ""), strict=True)
    paragraphs = "".join(
        f'<p><span class="segment-name">{escape(name)}</span>{display_text.html_text(text)}</p>'
        for name, text in parts
    )
    return f'<div class="example-text pair-text">{paragraphs}</div>'

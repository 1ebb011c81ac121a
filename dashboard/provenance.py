"""What a run computed, as a reader of the dashboard needs to know it.

Every choice that changes a stored number is recorded in ``runs.settings`` at ingest
(explained output, IG steps and baseline, SHAP evaluations, removal token, weights...).
:func:`run_provenance` shows the choices that change how a number reads in one line, and all
settings in a table that opens below it.
"""

from __future__ import annotations

from typing import Any

from dash import html

from attention_atlas.dashboard import ids
from attention_atlas.db.queries import RunInfo
from attention_atlas.models import deletion_grid, vocabulary

ZERO_SHOT_ONLY = ("prompt", "verbalizers")


def _shap_evals(settings: dict[str, Any]) -> str:
    evals = settings.get("shap_evals")
    if evals:
        return f"{evals} evaluations"
    return f"{vocabulary.SHAP_EVALS_RULE.replace(' * ', '·').replace(' + ', '+')} evaluations"


def _ig_baseline(settings: dict[str, Any]) -> str:
    """Runs stored before IG's baseline kept the frame recorded ``zero`` for all positions."""
    baseline = settings.get("ig_baseline")
    positions = settings.get("ig_baseline_positions", "all" if baseline == "zero" else "content")
    where = "content tokens only" if positions == "content" else "every position"
    return f"{baseline} baseline on {where}"


def summary_parts(settings: dict[str, Any]) -> list[str]:
    """The reading-relevant choices of a run, one short phrase each (absent keys skipped)."""
    parts = []
    if "explain_output" in settings:
        parts.append(f"explains the predicted class's {settings['explain_output']}")
    if "ig_steps" in settings:
        method = settings.get("ig_method", "")
        parts.append(f"IG {settings['ig_steps']} steps {method}, {_ig_baseline(settings)}")
    if "shap_explainer" in settings or "shap_evals" in settings:
        parts.append(f"SHAP {settings.get('shap_explainer', '')} {_shap_evals(settings)}")
    if "removal" in settings:
        parts.append(f"removal: {settings['removal']}")
        parts.append(f"deletion curves: {deletion_grid.grid_of(settings).describe()}")
    if "effective_max_length" in settings:
        parts.append(f"max {settings['effective_max_length']} tokens")
    if settings.get("zero_shot"):
        parts.append("zero-shot prompt")
    if settings.get("randomize_weights") and settings.get("randomize_layers") is not None:
        depth = settings["randomize_layers"]
        parts.append(
            f"RANDOMIZED WEIGHTS from layer {depth} up and the head (cascading sanity check)"
        )
    elif settings.get("randomize_weights"):
        parts.append("RANDOMIZED WEIGHTS (sanity check)")
    elif settings.get("fresh_head"):
        parts.append("fresh, untrained classifier head")
    return [" ".join(p.split()) for p in parts]


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in value)
    return "—" if value is None else str(value)


def settings_rows(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, shown value) for every setting; the prompt fields only for zero-shot runs."""
    skip = () if settings.get("zero_shot") else ZERO_SHOT_ONLY
    return [(key, _value(value)) for key, value in settings.items() if key not in skip]


def run_provenance(run: RunInfo | None) -> html.Details | html.Div:
    """A one-line summary of how ``run`` was computed; all its settings when opened."""
    if run is None:
        return html.Div(id=ids.PROVENANCE)
    settings = run.settings
    rows = [html.Tr([html.Th(k), html.Td(v)]) for k, v in settings_rows(settings)]
    summary = " · ".join(summary_parts(settings)) or "no settings recorded"
    return html.Details(
        [
            html.Summary(["How this run was computed: ", html.Span(summary)]),
            html.Table(html.Tbody(rows), className="settings-table"),
        ],
        id=ids.PROVENANCE,
        className="provenance",
    )

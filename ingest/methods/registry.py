"""The method registry: short string ids used unchanged by the CLI (``--methods``), the DB
(``attributions.method``) and the dashboard URL. Order here is the canonical order (agreement
pairs are stored with ``method_a`` before ``method_b`` in this order)."""

from __future__ import annotations

from ingest.methods.attention import compute_attention, compute_flow, compute_rollout
from ingest.methods.base import Method
from ingest.methods.gradients import compute_agrad, compute_grad_input
from ingest.methods.ig import compute_ig
from ingest.methods.shap_method import compute_shap

_ALL = (
    Method(
        "attention",
        compute_attention,
        signed=False,
        default=True,
        summary="last-layer attention from the prediction position, mean over heads",
    ),
    Method(
        "rollout",
        compute_rollout,
        signed=False,
        default=True,
        summary="attention rollout (Abnar & Zuidema 2020), residual-corrected",
    ),
    Method(
        "flow",
        compute_flow,
        signed=False,
        default=False,
        summary="attention flow (Abnar & Zuidema 2020), max-flow; length-capped, opt-in",
    ),
    Method(
        "agrad",
        compute_agrad,
        signed=True,
        default=True,
        summary="-dL/dalpha * alpha, last layer, prediction row, mean over heads (Liu 2021)",
    ),
    Method(
        "grad_input",
        compute_grad_input,
        signed=True,
        default=True,
        summary="gradient x input embeddings, summed over the embedding dimension",
    ),
    Method(
        "ig",
        compute_ig,
        signed=True,
        default=True,
        summary="Integrated Gradients on input embeddings (Sundararajan et al. 2017)",
    ),
    Method(
        "shap",
        compute_shap,
        signed=True,
        default=True,
        summary="Partition SHAP over the stored tokens (Lundberg & Lee 2017)",
    ),
)

METHODS: dict[str, Method] = {m.id: m for m in _ALL}
DEFAULT_METHODS: tuple[str, ...] = ("attention", "rollout", "agrad", "grad_input", "ig", "shap")
REFERENCE_METHODS: tuple[str, ...] = ("ig", "shap")  # head grids are computed against these
RANDOM_BASELINE = "random"  # faithfulness-only pseudo-method


def order_of(method: str) -> int:
    """Canonical position of a method id (unknown ids sort last)."""
    ids = list(METHODS)
    return ids.index(method) if method in ids else len(ids)


def validate_methods(methods: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Known ids in registry order, without duplicates; raises ValueError on unknown ids."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; known: {', '.join(METHODS)}")
    return tuple(sorted(dict.fromkeys(methods), key=order_of))

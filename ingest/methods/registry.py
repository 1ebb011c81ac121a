"""The method registry: each vocabulary id (``models.vocabulary``) mapped to its compute function
and parameter class. Ids, order, labels and signedness live in the vocabulary; this module only
adds what needs torch. At import it checks that it covers the vocabulary exactly, so a method
added to one and not the other fails at once.

Adding a method: a compute module in ``ingest/methods/``, one ``MethodInfo`` in
``models/vocabulary.py``, one line in :data:`COMPUTE` below.
"""

from __future__ import annotations

from functools import partial

from attention_atlas.ingest.methods.attention import (
    FlowParams,
    compute_attention,
    compute_flow,
    compute_rollout,
)
from attention_atlas.ingest.methods.base import Method, NoParams, OutputParams
from attention_atlas.ingest.methods.grad_rollout import compute_grad_rollout
from attention_atlas.ingest.methods.gradients import compute_agrad, compute_grad_input
from attention_atlas.ingest.methods.ig import IGParams, compute_ig
from attention_atlas.ingest.methods.lime import LimeParams, compute_lime
from attention_atlas.ingest.methods.saliency import compute_saliency
from attention_atlas.ingest.methods.shap_method import ShapParams, compute_shap
from attention_atlas.models import vocabulary

COMPUTE: dict[str, Method] = {
    m.id: m
    for m in (
        Method("attention", compute_attention, NoParams),
        Method("attention_decoder", partial(compute_attention, stack="decoder"), NoParams),
        Method("attention_cross", partial(compute_attention, stack="cross"), NoParams),
        Method("rollout", compute_rollout, NoParams),
        Method("flow", compute_flow, FlowParams),
        Method("agrad", compute_agrad, OutputParams),
        Method("agrad_decoder", partial(compute_agrad, stack="decoder"), OutputParams),
        Method("agrad_cross", partial(compute_agrad, stack="cross"), OutputParams),
        Method("grad_input", compute_grad_input, OutputParams),
        Method("saliency", compute_saliency, OutputParams),
        Method("grad_rollout", compute_grad_rollout, OutputParams),
        Method("ig", compute_ig, IGParams),
        Method("shap", compute_shap, ShapParams),
        Method("lime", compute_lime, LimeParams),
    )
}


class RegistryError(RuntimeError):
    """The registry and the vocabulary name different methods (a programming error)."""


def check_registry() -> None:
    """Raise unless :data:`COMPUTE` has exactly the vocabulary's methods."""
    known, computed = set(vocabulary.method_ids()), set(COMPUTE)
    if known != computed:
        raise RegistryError(
            "methods in attention_atlas.models.vocabulary without a compute function: "
            f"{sorted(known - computed)}; "
            f"compute functions without a vocabulary entry: {sorted(computed - known)}"
        )


def method(method_id: str) -> Method:
    return COMPUTE[method_id]


def validate_methods(methods: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Known ids in canonical order, without duplicates; raises ValueError on unknown ids."""
    unknown = vocabulary.unknown_methods(methods)
    if unknown:
        known = ", ".join(vocabulary.method_ids())
        raise ValueError(f"unknown method(s) {unknown}; known: {known}")
    return tuple(vocabulary.in_order(methods))


check_registry()

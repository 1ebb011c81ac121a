"""The words the whole product shares: method ids, their order, labels, colours, signedness,
papers, which are defaults, which are head-grid references, the ``random`` faithfulness
baseline and the agreement measures.

This module is the one place a method is named. Ingest's registry (``ingest.methods.registry``)
maps these ids to compute functions and checks at import that it covers them exactly; settings,
queries, the synthetic store, figures, the URL codec and the pages read them from here. It
imports nothing but the standard library, so the dashboard (which never imports torch) and
ingest can both use it.

Consumers call the functions below at the time they need a list instead of copying it at import
time: a test that adds a method to :data:`METHODS` then sees it everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MethodInfo:
    """What every part of the product knows about one attribution method."""

    id: str  # short snake_case id: CLI --methods, attributions.method, URL values
    label: str  # shown in the dashboard
    signed: bool  # scores carry a direction (for / against the predicted class)
    default: bool  # computed when --methods is not given
    color: str  # one colour per method in every figure
    paper: str  # the reference the method code follows
    summary: str  # one line for --help and the README
    # per-head grids are computed against this method at ingest: every method of the main
    # stack (runs stored before issue 22 have grids against IG and SHAP only)
    head_reference: bool = False
    # an encoder-decoder run's attention stack the method reads (``decoder`` or ``cross``);
    # None: the run's main stack (the encoder of an encoder-decoder run), or not attention
    stack: str | None = None


METHODS: tuple[MethodInfo, ...] = (
    MethodInfo(
        "attention",
        "attention",
        signed=False,
        default=True,
        color="#7b3294",
        paper="Jain & Wallace 2019; Karpekov & Miller, eq. 1",
        summary="last-layer attention from the prediction position, mean over heads",
        head_reference=True,
    ),
    MethodInfo(
        "attention_decoder",
        "attention (decoder)",
        signed=False,
        default=False,
        color="#b2abd2",
        paper="Karpekov & Miller 2023, chart 3",
        summary="encoder-decoder runs: the decoder self-attention row of the classification "
        "position, last layer, mean over heads",
        stack="decoder",
    ),
    MethodInfo(
        "attention_cross",
        "attention (cross)",
        signed=False,
        default=False,
        color="#542788",
        paper="Karpekov & Miller 2023, chart 3",
        summary="encoder-decoder runs: the cross-attention row of the classification position "
        "over the encoder's tokens, last layer, mean over heads",
        stack="cross",
    ),
    MethodInfo(
        "rollout",
        "rollout",
        signed=False,
        default=True,
        color="#c2a5cf",
        paper="Abnar & Zuidema 2020",
        summary="attention rollout (Abnar & Zuidema 2020), residual-corrected",
        head_reference=True,
    ),
    MethodInfo(
        "flow",
        "flow",
        signed=False,
        default=False,
        color="#a6611a",
        paper="Abnar & Zuidema 2020",
        summary="attention flow (Abnar & Zuidema 2020), max-flow; length-capped, opt-in",
        head_reference=True,
    ),
    MethodInfo(
        "agrad",
        "AGrad",
        signed=True,
        default=True,
        color="#dfc27d",
        paper="Liu et al. 2022",
        summary="-dL/dalpha * alpha, last layer, prediction row, mean over heads (Liu 2022)",
        head_reference=True,
    ),
    MethodInfo(
        "agrad_decoder",
        "AGrad (decoder)",
        signed=True,
        default=False,
        color="#fee0b6",
        paper="Liu et al. 2022; Karpekov & Miller 2023, chart 3",
        summary="encoder-decoder runs: AGrad on the decoder self-attention's last layer",
        stack="decoder",
    ),
    MethodInfo(
        "agrad_cross",
        "AGrad (cross)",
        signed=True,
        default=False,
        color="#b35806",
        paper="Liu et al. 2022; Karpekov & Miller 2023, chart 3",
        summary="encoder-decoder runs: AGrad on the cross-attention's last layer",
        stack="cross",
    ),
    MethodInfo(
        "grad_input",
        "grad x input",
        signed=True,
        default=True,
        color="#80cdc1",
        paper="Shrikumar et al. 2016",
        summary="gradient x input embeddings, summed over the embedding dimension",
        head_reference=True,
    ),
    MethodInfo(
        "saliency",
        "saliency",
        signed=False,
        default=False,
        color="#92c5de",
        paper="Simonyan et al. 2014",
        summary="L2 norm of the explained output's gradient at each input embedding",
        head_reference=True,
    ),
    MethodInfo(
        "grad_rollout",
        "grad rollout",
        signed=False,
        default=False,
        color="#5e3c99",
        paper="Chefer, Gur & Wolf 2021",
        summary="gradient-weighted rollout: R += mean_heads(ReLU(dA * A)) R (Chefer 2021)",
        head_reference=True,
    ),
    MethodInfo(
        "ig",
        "IG",
        signed=True,
        default=True,
        color="#018571",
        paper="Sundararajan et al. 2017",
        summary="Integrated Gradients on input embeddings (Sundararajan et al. 2017)",
        head_reference=True,
    ),
    MethodInfo(
        "shap",
        "SHAP",
        signed=True,
        default=True,
        color="#e66101",
        paper="Lundberg & Lee 2017",
        summary="Partition SHAP over the stored tokens (Lundberg & Lee 2017)",
        head_reference=True,
    ),
    MethodInfo(
        "lime",
        "LIME",
        signed=True,
        default=False,
        color="#b2182b",
        paper="Ribeiro et al. 2016",
        summary="LIME over the content tokens: weighted ridge on --lime-samples removals",
        head_reference=True,
    ),
)

# The faithfulness baseline: tokens removed in a seeded random order. Not a method (it has no
# attributions), but it has a row in the faithfulness table and a line in every deletion plot.
RANDOM = MethodInfo(
    "random",
    "random order",
    signed=False,
    default=False,
    color="#777777",
    paper="DeYoung et al. 2020 (ERASER)",
    summary="tokens removed in a seeded random order (faithfulness baseline)",
)

# The attention stacks of an encoder-decoder run. The encoder is the run's main stack (the
# ``attention`` table, the unqualified methods, the head grids' plain reference ids); the
# decoder's self-attention and the cross-attention are stored per stack beside it, their
# positions those of the input text's tokens (decoder position j is where the decoder, fed the
# input shifted right by one, re-generates input token j). Runs of one-stack models have none.
STACKS: tuple[str, ...] = ("encoder", "decoder", "cross")
MAIN_STACK = STACKS[0]
STACK_LABELS: dict[str, str] = {
    "encoder": "encoder self-attention",
    "decoder": "decoder self-attention",
    "cross": "cross-attention (decoder over encoder)",
}

# The head grids' reference when the URL names none.
DEFAULT_REFERENCE = "ig"

# The corpus page's scatter: x and y method pairs when the URL names none.
DEFAULT_PAIR = ("attention", "ig")
DEFAULT_Y_PAIR = ("attention", "shap")

# Agreement measures, stored as columns of ``agreements``: id -> label.
MEASURES: dict[str, str] = {
    "spearman": "Spearman ρ (|scores|)",
    "kendall": "Kendall τ (|scores|)",
    "spearman_signed": "Spearman ρ (signed)",
    "kendall_signed": "Kendall τ (signed)",
    "jaccard_5": "top-5 Jaccard",
    "jaccard_10pct": "top-10% Jaccard",
}

# Plausibility measures (agreement with a human rationale, ERASER), stored as columns of
# ``plausibility``: id -> label. The first is the default of every plausibility view.
PLAUSIBILITY: dict[str, str] = {"auprc": "AUPRC", "token_f1": "token F1", "iou_f1": "IOU F1"}

# Causal head importance, stored per example as [layers, heads] in ``head_stats``: id -> label.
# ``gradient`` is always computed, ``ablation`` with --head-ablation.
HEAD_IMPORTANCE: dict[str, str] = {
    "gradient": "gate gradient |∂f/∂ξ|",
    "ablation": "ablation Δp",
}

# SHAP's evaluation budget when --shap-evals is not given (one rule, read by the method, the
# CLI help, the stored provenance and the dashboard).
SHAP_MIN_EVALS = 500
SHAP_EVALS_RULE = f"max({SHAP_MIN_EVALS}, 2 * tokens + 1)"


# LIME's samples per example when --lime-samples is not given.
LIME_DEFAULT_SAMPLES = 500

# IG's baselines and the positions each replaces: ``content`` keeps special tokens and a
# zero-shot prompt's frame at their real embeddings (the counterfactual SHAP and the deletion
# tests explain); ``all`` is the seed papers' literal all-zero input.
IG_BASELINES: dict[str, str] = {"zero": "content", "pad": "content", "zero-all": "all"}


def shap_evals_for(tokens: int, evals: int | None) -> int:
    """SHAP model evaluations for an example of ``tokens`` content tokens."""
    return evals if evals is not None else max(SHAP_MIN_EVALS, 2 * tokens + 1)


def method_ids() -> tuple[str, ...]:
    """Every method id in canonical order (agreement pairs are stored in this order)."""
    return tuple(m.id for m in METHODS)


def default_method_ids() -> tuple[str, ...]:
    return tuple(m.id for m in METHODS if m.default)


def stack_method_ids() -> tuple[str, ...]:
    """Methods that read a second attention stack (encoder-decoder runs only)."""
    return tuple(m.id for m in METHODS if m.stack is not None)


def one_stack_method_ids() -> tuple[str, ...]:
    """Every method a one-stack model (encoder, decoder, zero-shot) can compute."""
    return tuple(m.id for m in METHODS if m.stack is None)


def methods_for_stacks(methods: Iterable[str], stacks: Iterable[str]) -> tuple[str, ...]:
    """``methods`` as a run over ``stacks`` computes them: when ``methods`` are the defaults,
    an encoder-decoder run (stacks beyond the main one) adds the stack-qualified methods, and
    other runs keep them as they are. Unknown stack methods are left for the caller to refuse."""
    methods = tuple(methods)
    extra = set(stacks) - {MAIN_STACK}
    if methods != default_method_ids() or not extra:
        return methods
    added = [m.id for m in METHODS if m.stack in extra and base_of(m.id) in methods]
    return tuple(in_order((*methods, *added)))


def base_of(method: str) -> str:
    """The main-stack method a stack-qualified id varies (``agrad_cross`` -> ``agrad``)."""
    entry = info(method)
    return method.removesuffix(f"_{entry.stack}") if entry and entry.stack else method


def stack_reference(reference: str, stack: str | None) -> str:
    """The stored key of a head grid of ``stack`` against ``reference``: the plain method id on
    the main stack, ``ig@cross`` on another (``head_scores.reference``)."""
    return reference if stack in (None, MAIN_STACK) else f"{reference}@{stack}"


def reference_method_ids() -> tuple[str, ...]:
    """Methods that per-head grids are computed against (the heads page's choices)."""
    return tuple(m.id for m in METHODS if m.head_reference)


def default_reference() -> str:
    """The head grid's reference when the URL names none: IG (else the first reference)."""
    ids = reference_method_ids()
    return DEFAULT_REFERENCE if DEFAULT_REFERENCE in ids else ids[0]


def signed_method_ids() -> frozenset[str]:
    return frozenset(m.id for m in METHODS if m.signed)


def info(method: str) -> MethodInfo | None:
    """The entry of ``method`` (``random`` included); None for an unknown id."""
    return next((m for m in (*METHODS, RANDOM) if m.id == method), None)


def color_of(method: str) -> str:
    entry = info(method)
    return entry.color if entry else "#333333"


def label_of(method: str) -> str:
    entry = info(method)
    return entry.label if entry else method


def order_of(method: str) -> int:
    """Canonical position of a method id; unknown ids sort after every known one."""
    ids = method_ids()
    return ids.index(method) if method in ids else len(ids)


def in_order(methods: Iterable[str]) -> list[str]:
    """``methods`` without duplicates in canonical order (unknown ids last, by name)."""
    return sorted(dict.fromkeys(methods), key=lambda m: (order_of(m), m))


def with_random_last(methods: Iterable[str]) -> list[str]:
    """Faithfulness rows' methods in canonical order, the ``random`` baseline last."""
    return in_order(set(methods) - {RANDOM.id}) + [RANDOM.id]


def normalize_pair(a: str, b: str) -> tuple[str, str]:
    """The stored order of a method pair."""
    first, second = in_order((a, b)) if a != b else (a, b)
    return first, second


def unknown_methods(methods: Iterable[str]) -> list[str]:
    known = set(method_ids())
    return [m for m in methods if m not in known]


# --attention-rows: which layers' attention each example stores (the prediction rows, and the
# full token x token tensor up to --full-attention-max-tokens). Head grids, sink shares and the
# attention-derived methods are computed from every layer at ingest whichever is chosen.
ATTENTION_ROWS: dict[str, str] = {
    "all": "every layer's prediction rows",
    "last": "only the last layer's prediction rows",
    "none": "no attention rows",
}
DEFAULT_ATTENTION_ROWS = "all"


def stored_layers(choice: str, num_layers: int) -> range:
    """The layer indices ``--attention-rows choice`` stores, for a model of ``num_layers``."""
    if choice == "all":
        return range(num_layers)
    if choice == "last":
        return range(max(num_layers - 1, 0), num_layers)
    if choice == "none":
        return range(0)
    raise ValueError(f"attention rows must be one of {', '.join(ATTENTION_ROWS)}, not {choice!r}")


def stored_layer(choice: str, layer: int, num_layers: int) -> bool:
    return layer in stored_layers(choice, num_layers)


def layers_of_rows(stored: int, num_layers: int) -> range:
    """The model layers that ``stored`` stored rows are (a read-side inverse of
    :func:`stored_layers`): every layer, the last one only, or none."""
    if stored == num_layers:
        return range(num_layers)
    return range(num_layers - stored, num_layers) if stored == 1 else range(0)

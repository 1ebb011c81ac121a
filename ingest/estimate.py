"""``attention-atlas ingest --estimate``: time a few examples of the real corpus on the chosen
device and predict the whole run's wall time, per stage, and what the main levers would save.

Each stage's cost is modelled as seconds per *work unit*, where a unit is one token through one
model pass of that stage: an example of n tokens costs n units to the forward pass and the attention
methods, (steps + 1) * n to IG, evaluations(n) * n to SHAP, samples * n to LIME, (deletion rows) * n
to the faithfulness tests, n to head importance (one forward and backward pass) and layers * heads *
n to ``--head-ablation``. A few real batches (``--batch-size`` examples of neighbouring lengths, as
the run cuts them) at the 10%, 50% and 90% points of the corpus's length order are run as the run
would run them (after a warm-up), each stage's seconds divided by its units give its rate, and the
rates times the units of every example give the estimate. Nothing is written to the database. A
corpus of three batches or fewer (:func:`timing_is_the_run`) has no sample smaller than itself:
timing it is running it, so the CLI ingests and stores it instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from attention_atlas.ingest.adapters import Adapter, EncodedText
from attention_atlas.ingest.attention_hooks import captured_forward
from attention_atlas.ingest.batch import (
    FAITHFULNESS,
    HEAD_ABLATION,
    ExplainPlan,
    explain_batch,
    for_adapter,
    method_needs,
    plan_for,
)
from attention_atlas.ingest.corpus import CorpusItem
from attention_atlas.ingest.faithfulness import FRACTIONS
from attention_atlas.ingest.precision import precision_context, resolve_precision
from attention_atlas.ingest.settings import IngestSettings, validate
from attention_atlas.models.deletion_grid import GRID
from attention_atlas.models.vocabulary import LIME_DEFAULT_SAMPLES, shap_evals_for

FORWARD = "forward"
QUANTILES = (0.1, 0.5, 0.9)  # where in the length order the timed batches are cut


@dataclass(frozen=True)
class Estimate:
    n_examples: int
    sample: int
    seconds: dict[str, float]  # stage -> predicted seconds for the whole run
    levers: dict[str, float]  # lever (a CLI change) -> predicted seconds saved

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def timing_is_the_run(n_examples: int, batch_size: int) -> bool:
    """Whether the timed batches (one per QUANTILES point) would be every batch of the run."""
    return math.ceil(n_examples / batch_size) <= len(QUANTILES)


def units(stage: str, n: int, settings: IngestSettings, n_methods: int, n_heads: int = 1) -> float:
    """Work units of ``stage`` for an example of ``n`` tokens (see the module docstring);
    ``n_heads`` is the model's layers x heads."""
    n = min(n, settings.max_length)
    if stage == HEAD_ABLATION:
        return float(n_heads * n)
    if stage == "ig":
        return (settings.ig_steps + 1) * n
    if stage == "shap":
        return shap_evals_for(n, settings.shap_evals) * n
    if stage == "lime":
        return lime_samples_of(settings) * n
    if stage == "flow":
        return n**3 if n <= settings.flow_max_tokens else 0.0
    if stage == FAITHFULNESS:
        rows = 1 + (n_methods + 1) * (2 * len(FRACTIONS) + len(GRID.ks(n)))
        return rows * n
    return float(n)


def lime_samples_of(settings: IngestSettings) -> int:
    samples = settings.lime_samples
    return LIME_DEFAULT_SAMPLES if samples is None else samples


def estimate_run(
    settings: IngestSettings, corpus_items: list[CorpusItem], adapter: Adapter, budget: int
) -> Estimate:
    """Predicted wall time of ingesting ``corpus_items`` with ``settings`` on ``adapter``."""
    validate(settings)
    settings = for_adapter(settings, adapter)
    plan = plan_for(settings, token_budget=budget)
    encoded = [adapter.encode(item.text, item.text_pair) for item in corpus_items]
    lengths = np.array([e.length for e in encoded])
    batches = _sample_batches(encoded, lengths, settings.batch_size)
    precision = resolve_precision(settings.precision, adapter.device)
    _time_batches(adapter, [batches[0][:1]], plan, precision)  # warm-up, not counted
    spent = _time_batches(adapter, batches, plan, precision)
    stages = (FORWARD, *plan.stages)
    n_methods, n_heads = len(plan.methods), adapter.num_layers * adapter.num_heads
    sample = [e for batch in batches for e in batch]
    rates = {
        s: spent[s]
        / max(sum(units(s, e.length, settings, n_methods, n_heads) for e in sample), 1e-9)
        for s in stages
    }

    def predict(chosen: IngestSettings, kept: tuple[str, ...] = stages) -> dict[str, float]:
        return {
            s: rates[s] * float(sum(units(s, int(n), chosen, n_methods, n_heads) for n in lengths))
            for s in kept
        }

    seconds = predict(settings)
    return Estimate(len(encoded), len(sample), seconds, _levers(settings, seconds, predict))


def _levers(
    settings: IngestSettings,
    seconds: dict[str, float],
    predict: Callable[[IngestSettings], dict[str, float]],
) -> dict[str, float]:
    total = sum(seconds.values())
    levers: dict[str, float] = {}
    for method in ("shap", "lime", "ig"):
        if method in seconds:
            levers[f"--methods without {method}"] = seconds[method]
    if HEAD_ABLATION in seconds:
        levers["without --head-ablation"] = seconds[HEAD_ABLATION]
    if "shap" in seconds and (settings.shap_evals or 10**9) > 200:
        fewer = predict(replace(settings, shap_evals=200))["shap"]
        levers["--shap-evals 200"] = seconds["shap"] - fewer
    if "lime" in seconds and lime_samples_of(settings) > 200:
        fewer = predict(replace(settings, lime_samples=200))["lime"]
        levers["--lime-samples 200"] = seconds["lime"] - fewer
    if "ig" in seconds and settings.ig_steps > 20:
        levers["--ig-steps 20"] = seconds["ig"] - predict(replace(settings, ig_steps=20))["ig"]
    for length in (256, 128):
        if length < settings.max_length:
            shorter = sum(predict(replace(settings, max_length=length)).values())
            levers[f"--max-length {length}"] = total - shorter
    return {k: v for k, v in levers.items() if v > 0}


def _sample_batches(
    encoded: list[EncodedText], lengths: np.ndarray, batch_size: int
) -> list[list[EncodedText]]:
    """Batches as the run cuts them (length order) at the QUANTILES of that order."""
    order = np.argsort(lengths, kind="stable")
    starts = {
        min(int(q * len(order)) // batch_size * batch_size, max(len(order) - batch_size, 0))
        for q in QUANTILES
    }
    return [[encoded[int(i)] for i in order[s : s + batch_size]] for s in sorted(starts)]


def _time_batches(
    adapter: Adapter, batches: list[list[EncodedText]], plan: ExplainPlan, precision: str
) -> dict[str, float]:
    """Seconds per stage over ``batches``, each run as the pipeline runs a batch."""
    spent = dict.fromkeys((FORWARD, *plan.stages), 0.0)
    running, since = FORWARD, 0.0  # the stage running and when it started

    def on_progress(stage: str, _share: float) -> None:
        """Time since the last call belongs to the stage that was running."""
        nonlocal running, since
        now = time.perf_counter()
        spent[running] += now - since
        running, since = stage, now

    for items in batches:
        running, since = FORWARD, time.perf_counter()
        with precision_context(adapter.device, precision):
            batch = adapter.collate(items)
            forward, captured = captured_forward(adapter, batch, items, method_needs(plan, adapter))
            forward = replace(forward, captured=captured)
            explain_batch(adapter, batch, items, forward, plan, on_progress)
        on_progress(running, 1.0)  # the last stage's time
    return spent


def report(estimate: Estimate, device: str, workers: int = 1) -> str:
    """The estimate as the lines ``--estimate`` prints; with ``workers`` > 1 the total is also
    projected onto that many Ray workers, each assumed as fast as the device timed here."""
    lines = [
        f"estimate for {estimate.n_examples} examples on {device} "
        f"(timed {estimate.sample} examples in batches across the corpus's lengths):",
    ]
    for stage, seconds in sorted(estimate.seconds.items(), key=lambda kv: -kv[1]):
        share = seconds / estimate.total if estimate.total else 0.0
        lines.append(f"  {stage:<14} {_duration(seconds):>10}  {share:6.1%}")
    lines.append(f"  {'total':<14} {_duration(estimate.total):>10}")
    if workers > 1:
        lines.append(
            f"  {f'on {workers} workers':<14} {_duration(estimate.total / workers):>10}  "
            "(assumes linear scaling, each worker as fast as this device; "
            "benchmarks/bench_scaleout.py measures it)"
        )
    if estimate.levers:
        lines.append("what the main levers would save:")
        for lever, saved in sorted(estimate.levers.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {lever:<26} -{_duration(saved)}")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"

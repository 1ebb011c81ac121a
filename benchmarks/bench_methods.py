"""Benchmark: the methods issue 22 added (saliency, grad rollout, LIME) against their
references, what each costs per example against IG, and the faithfulness ranking of every
method of a stored run.

- ``references``: each method's batched scores against its reference, one example at a time
  (Captum ``Saliency``; Chefer et al.'s rules 5-6; Captum ``Lime`` with the same samples,
  kernel and ridge), on the tests' tiny BERT and GPT-2 classifiers and on the demo MiniLM
  (``--minilm FOLDER``), over the first ``--n`` demo reviews: the largest relative difference
  max|ours - reference| / max|reference| over the examples.
- ``cost``: on the demo MiniLM, each method alone (its own gradient pass: saliency does not
  borrow grad x input's) over ``--n`` demo reviews in batches of 8, seconds per example and the
  ratio to IG (50 steps) measured in the same process; the forward pass all methods share is
  left out.
- ``ranking``: from a stored run (``--db``, ``--run``), per method and the random baseline:
  comprehensiveness (ERASER, mean over the fractions), the area over the top-k relative
  accuracy curve (mean over k = 1..K of 1 - accuracy(k) / accuracy(0), originally correct
  examples; higher = deleting the method's top tokens flips more predictions), the same for
  bottom-k (lower = more faithful), and the seconds per example ingest recorded for it.

Usage:
    python benchmarks/bench_methods.py references --minilm .cache/attention-atlas/minilm-demo-*
    python benchmarks/bench_methods.py cost --minilm .cache/attention-atlas/minilm-demo-* --n 32
    python benchmarks/bench_methods.py ranking --db benchmarks/out/demo-all.db --run demo-all
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["negative", "positive"]
NEW = ("saliency", "grad_rollout", "lime")


def demo_texts(n: int) -> list[str]:
    from attention_atlas.ingest.demo.model import load_demo_corpus

    return [r["text"] for r in load_demo_corpus() if r["split"] == "test"][:n]


def tiny_adapter(kind: str):
    sys.path.insert(0, str(ROOT / "tests"))
    from support.methods import build_adapter, save_checkpoint

    return build_adapter(kind, save_checkpoint(kind, Path(tempfile.mkdtemp())))


def minilm_adapter(folder: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from attention_atlas.ingest.adapters import EncoderAdapter

    net = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    return EncoderAdapter(net, AutoTokenizer.from_pretrained(folder), LABELS, max_length=128)


def method_params(method_id: str, samples: int):
    from attention_atlas.ingest.methods.registry import method
    from attention_atlas.ingest.settings import IngestSettings

    settings = IngestSettings(lime_samples=samples, max_length=128)
    return method(method_id).params.from_settings(settings, 2048)


def forward_of(adapter, texts: list[str]):
    items = [adapter.encode(t) for t in texts]
    batch = adapter.collate(items)
    with torch.no_grad():
        forward = adapter.forward(batch, output_attentions=True)
    return items, batch, forward


def largest_difference(adapter, texts: list[str], method_id: str, samples: int) -> float:
    from attention_atlas.ingest.methods import grad_rollout, lime, saliency
    from attention_atlas.ingest.methods.base import targets_of
    from attention_atlas.ingest.methods.registry import method

    reference = {
        "saliency": saliency.captum_reference,
        "grad_rollout": grad_rollout.chefer_reference,
        "lime": lime.captum_reference,
    }[method_id]
    params = method_params(method_id, samples)
    items, batch, forward = forward_of(adapter, texts)
    results = method(method_id).compute(adapter, batch, items, forward, params)
    worst = 0.0
    for item, result, target in zip(items, results, targets_of(forward).tolist(), strict=True):
        want = reference(adapter, item, target, params)
        worst = max(worst, float(np.abs(result.scores - want).max() / np.abs(want).max()))
    return worst


def references(args: argparse.Namespace) -> None:
    texts = demo_texts(args.n)
    models = {"tiny BERT": lambda: tiny_adapter("bert"), "tiny GPT-2": lambda: tiny_adapter("gpt2")}
    if args.minilm:
        models["demo MiniLM"] = lambda: minilm_adapter(args.minilm)
    print(f"largest relative difference to the reference over {len(texts)} demo reviews")
    print(f"(LIME: {args.samples} samples)")
    print(f"{'model':<12} " + " ".join(f"{m:>13}" for m in NEW))
    for name, build in models.items():
        adapter = build()
        cells = [largest_difference(adapter, texts, m, args.samples) for m in NEW]
        print(f"{name:<12} " + " ".join(f"{c:13.2e}" for c in cells), flush=True)


def seconds_per_example(adapter, batches, method_id: str, samples: int) -> float:
    from attention_atlas.ingest.methods.base import Shared
    from attention_atlas.ingest.methods.registry import method

    params = method_params(method_id, samples)
    spent, n = 0.0, 0
    for items, batch, forward in batches:
        started = time.perf_counter()
        method(method_id).compute(adapter, batch, items, forward, params, shared=Shared())
        spent += time.perf_counter() - started
        n += len(items)
    return spent / n


def cost(args: argparse.Namespace) -> None:
    adapter = minilm_adapter(args.minilm)
    texts = sorted(demo_texts(args.n), key=len)
    batches = [forward_of(adapter, texts[i : i + 8]) for i in range(0, len(texts), 8)]
    seconds_per_example(adapter, batches[:1], "ig", args.samples)  # warm-up
    chosen = ("ig", "grad_input", *NEW)
    measured = {m: seconds_per_example(adapter, batches, m, args.samples) for m in chosen}
    print(f"demo MiniLM, {len(texts)} reviews, batches of 8, {torch.get_num_threads()} threads")
    print(f"{'method':<13} {'s/example':>10} {'x IG':>7}")
    for m, s in measured.items():
        print(f"{m:<13} {s:10.4f} {s / measured['ig']:7.3f}")


def area_over(curve: np.ndarray) -> float:
    return float(np.mean(1.0 - curve[1:]))


def ranking(args: argparse.Namespace) -> None:
    from sqlalchemy import func, select

    import attention_atlas
    from attention_atlas.db.accuracy_reads import stack_curves
    from attention_atlas.db.analysis.accuracy_curves import accuracy_curves
    from attention_atlas.db.engine import make_engine, session_factory
    from attention_atlas.models import vocabulary
    from attention_atlas.models.schema import Attribution, Example

    run = attention_atlas.open(args.db).run(args.run)
    faith = run.faithfulness().groupby("method")["comprehensiveness"].mean()
    correct = run.ids(correct=True)
    with session_factory(make_engine(args.db, readonly=True))() as session:
        curves = accuracy_curves(stack_curves(session, run.id), correct)
        seconds = dict(
            session.execute(
                select(Attribution.method, func.avg(Attribution.seconds))
                .join(Example, Example.id == Attribution.example_id)
                .where(Example.run_id == run.id)
                .group_by(Attribution.method)
            ).all()
        )
    rows = [
        (m, area_over(top), faith.get(m, np.nan), curves.bottom.get(m), seconds.get(m))
        for m, top in curves.top.items()
    ]
    rows.sort(key=lambda r: -r[1])
    k = len(next(iter(curves.top.values()))) - 1
    print(f"run {run.name}: {curves.n} originally correct examples, k = 1..{k}")
    print("s/ex: seconds per example ingest recorded (a gradient pass several methods share is")
    print("charged to the first that needs it: AGrad); x IG: that over IG's, the same run")
    header = f"{'method':<13} {'AOAC top-k':>10} {'compreh.':>9} {'AOAC bottom':>11}"
    print(f"{header} {'s/ex':>8} {'x IG':>7}")
    for m, top, comp, bottom, sec in rows:
        low = f"{area_over(bottom):11.3f}" if bottom is not None else f"{'':>11}"
        spent = f"{sec:8.3f} {sec / seconds['ig']:7.3f}" if sec is not None else ""
        print(f"{vocabulary.label_of(m):<13} {top:10.3f} {comp:9.3f} {low} {spent}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("references", "cost", "ranking"))
    parser.add_argument("--minilm", help="the demo's fine-tuned MiniLM folder")
    parser.add_argument("--n", type=int, default=8, help="demo reviews")
    parser.add_argument("--samples", type=int, default=500, help="LIME samples")
    parser.add_argument("--db", help="ranking: the store")
    parser.add_argument("--run", help="ranking: run name or id")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    {"references": references, "cost": cost, "ranking": ranking}[args.what](args)


if __name__ == "__main__":
    main()

"""Benchmark: what deletion curves at real length cost per example (issue 22).

On IMDb reviews that fill the model's 512 tokens (``../shared/data/imdb/sample.jsonl``, the
longest first), in batches as ingest runs them, with random scores for the default methods (the
cost depends on how many variants are evaluated, not on the scores), the faithfulness pass is
timed twice per batch, in alternating order: on the grid stored before (``LEGACY``: k = 0..20)
and on today's (``GRID``: every k to 20, then 4 per doubling, to half the content tokens). It
prints the forward passes (evaluated rows, after ingest's de-duplication) and the seconds per
example of each, and their ratio.

Usage: python benchmarks/bench_deletion_grid.py [--model minilm|tiny|FOLDER] [--n 4]
       [--batch-size 2] [--threads N] [--data ../shared/data/imdb/sample.jsonl]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from bench_ingest import load_adapter

from attention_atlas.ingest import faithfulness
from attention_atlas.models import vocabulary
from attention_atlas.models.deletion_grid import GRID, LEGACY

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "imdb" / "sample.jsonl"


class RowCounter:
    """Counts the rows ``faithfulness_batch`` hands to ``evaluate_ids`` (one forward each)."""

    def __init__(self) -> None:
        self.rows = 0
        self._evaluate = faithfulness.evaluate_ids

    def __call__(self, adapter, rows, positions, **kwargs):
        self.rows += len(rows)
        return self._evaluate(adapter, rows, positions, **kwargs)


def longest_reviews(adapter, path: Path, n: int) -> list:
    """The ``n`` reviews with the most tokens (truncated to the model's length), encoded."""
    texts = [json.loads(line)["text"] for line in path.open()]
    lengths = [len(adapter.tokenizer(t)["input_ids"]) for t in texts]
    chosen = sorted(range(len(texts)), key=lambda i: -lengths[i])[:n]
    return [adapter.encode(texts[i]) for i in chosen]


def measure(adapter, items: list, batch_size: int) -> dict[str, dict[str, float]]:
    """Per grid: rows evaluated and seconds, summed over ``items``."""
    methods = vocabulary.default_method_ids()
    totals = {name: {"rows": 0.0, "seconds": 0.0} for name in ("old", "new")}
    for number, start in enumerate(range(0, len(items), batch_size)):
        chunk = items[start : start + batch_size]
        rng = np.random.default_rng(start)
        scores = [{m: rng.normal(size=i.length).astype(np.float32) for m in methods} for i in chunk]
        with torch.no_grad():
            targets = adapter.forward(adapter.collate(chunk)).logits.argmax(-1).tolist()
        order = (("old", LEGACY), ("new", GRID))
        for name, grid in order if number % 2 == 0 else order[::-1]:
            counter = RowCounter()
            with mock.patch.object(faithfulness, "evaluate_ids", counter):
                started = time.perf_counter()
                faithfulness.faithfulness_batch(adapter, chunk, scores, targets, grid=grid)
                totals[name]["seconds"] += time.perf_counter() - started
            totals[name]["rows"] += counter.rows
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm", help="minilm, tiny or a checkpoint folder")
    parser.add_argument("--n", type=int, default=4, help="reviews (the longest of the file)")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not args.data.exists():  # a clone without ../shared: nothing to measure on
        print(f"skipped: no IMDb sample at {args.data} (pass --data)")
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    adapter = load_adapter(args.model, 512)
    items = longest_reviews(adapter, args.data, args.n)
    first = json.loads(args.data.open().readline())["text"]
    measure(adapter, [adapter.encode(" ".join(first.split()[:40]))], 1)  # warm-up, short
    t = measure(adapter, items, args.batch_size)
    n = len(items)
    content = [int((~i.special_mask).sum()) for i in items]
    print(
        f"model {args.model}: {n} IMDb reviews of {min(content)}-{max(content)} content tokens, "
        f"batch {args.batch_size}, {torch.get_num_threads()} threads, "
        f"{len(vocabulary.default_method_ids())} default methods + random"
    )
    print(f"  old grid k = 0..20: {len(LEGACY.ks(max(content)))} points per curve")
    print(f"  new grid: {len(GRID.ks(max(content)))} points, k up to {GRID.ks(max(content))[-1]}")
    for name in ("old", "new"):
        rows, seconds = t[name]["rows"] / n, t[name]["seconds"] / n
        print(f"  {name}: {rows:6.0f} forward passes, {seconds:7.2f} s per example")
    rows = t["new"]["rows"] / t["old"]["rows"]
    seconds = t["new"]["seconds"] / t["old"]["seconds"]
    print(f"  ratio new / old: {rows:.2f}x forward passes, {seconds:.2f}x seconds")


if __name__ == "__main__":
    main()

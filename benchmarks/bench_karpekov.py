"""Benchmark: what Karpekov & Miller's stored data costs per example (issue 10).

Over the demo corpus's reviews, in length-sorted batches as ingest runs them, with scores for
the default methods (random numbers: the cost depends on how many variants are evaluated, not
on the scores): the extra time of keeping the last hidden states in the batch's forward pass,
of the bottom-k deletion rows of the signed methods inside the packed faithfulness pass (against
the same pass without them), and of the top-5 vectors; and the bytes of the new column values
as stored (``.npy`` blobs: ``deletion_same``, ``deletion_bottom``, ``deletion_bottom_same``,
``top_vectors.vector``), without SQLite's row and index overhead.

Usage: python benchmarks/bench_karpekov.py --model tiny|minilm|FOLDER [--n 48] [--batch-size 16]
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
from attention_atlas.ingest.top_vectors import top_vectors
from attention_atlas.models import vocabulary
from attention_atlas.models.arrays import encode_array

CORPUS = Path(__file__).resolve().parents[1] / "ingest" / "demo" / "corpus.jsonl"
NEW_COLUMNS = ("deletion_same", "deletion_bottom", "deletion_bottom_same")


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def measure(adapter, texts: list[str], batch_size: int) -> dict[str, float]:
    """Seconds and bytes summed over ``texts``."""
    items = sorted((adapter.encode(t) for t in texts), key=lambda i: i.length)
    methods = vocabulary.default_method_ids()
    keys = (
        "forward",
        "hidden",
        "faith_without",
        "faith_with",
        "vectors",
        "curve_bytes",
        "vec_bytes",
    )
    totals = dict.fromkeys(keys, 0.0)
    faith = faithfulness.faithfulness_batch
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        batch = adapter.collate(chunk)
        rng = np.random.default_rng(start)
        scores = [{m: rng.normal(size=i.length).astype(np.float32) for m in methods} for i in chunk]
        with torch.no_grad():
            plain, t_plain = _timed(adapter.forward, batch, output_attentions=True)
            full, t_full = _timed(
                adapter.forward, batch, output_attentions=True, output_hidden=True
            )
        targets = plain.logits.argmax(-1).tolist()
        with mock.patch.object(vocabulary, "signed_method_ids", frozenset):
            _, t_without = _timed(faith, adapter, chunk, scores, targets)
        rows, t_with = _timed(faith, adapter, chunk, scores, targets)
        vectors, t_vectors = _timed(top_vectors, full.hidden, chunk, scores)
        totals["forward"] += t_plain
        totals["hidden"] += t_full - t_plain
        totals["faith_without"] += t_without
        totals["faith_with"] += t_with
        totals["vectors"] += t_vectors
        totals["curve_bytes"] += sum(
            len(encode_array(r[c]))
            for ex in rows
            for r in ex
            for c in NEW_COLUMNS
            if r[c] is not None
        )
        totals["vec_bytes"] += sum(len(encode_array(v)) for ex in vectors for v in ex.values())
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="tiny, minilm or a checkpoint folder")
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    torch.manual_seed(0)
    adapter = load_adapter(args.model, 512)
    texts = [json.loads(line)["text"] for line in CORPUS.open()][: args.n]
    measure(adapter, texts[: args.batch_size], args.batch_size)  # warm-up
    t = measure(adapter, texts, args.batch_size)
    n = len(texts)
    hidden = adapter.model.config.hidden_size
    print(f"model {args.model}: hidden {hidden}, {n} demo reviews, batch {args.batch_size}")
    print(f"  forward with attentions          {1e3 * t['forward'] / n:8.2f} ms/example")
    print(f"  + keeping last hidden states     {1e3 * t['hidden'] / n:8.2f} ms/example")
    extra = t["faith_with"] - t["faith_without"]
    print(
        f"  faithfulness pass without bottom {1e3 * t['faith_without'] / n:8.2f} ms/example; "
        f"bottom-k rows add {1e3 * extra / n:.2f} ms ({100 * extra / t['faith_without']:+.0f}%)"
    )
    print(f"  top-5 vectors                    {1e3 * t['vectors'] / n:8.2f} ms/example")
    print(f"  bytes: accuracy + bottom curves  {t['curve_bytes'] / n:8.0f} per example")
    print(f"  bytes: top-5 vectors             {t['vec_bytes'] / n:8.0f} per example")


if __name__ == "__main__":
    main()

"""Time and peak memory of the read API's per-example tables on a large store, beside a naive
reference measured in the same run.

Opens the store only through ``attention_atlas.open`` (read-only) and measures, for the newest
run (or ``--run``), ``examples()``, ``agreements()`` and ``scores(METHOD)``; the reference
reads the same rows with ``pandas.read_sql`` of whole tables and decodes every array blob of
them in Python. Each call is timed on its own (best of ``--repeat``), then run once more under
``tracemalloc`` for its peak of Python and numpy allocations. One line per call:
``NAME rows  API s / MiB   naive s / MiB``.

    python benchmarks/bench_read_api.py --db benchmarks/out/bench.db --method ig
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pandas as pd

import attention_atlas
from attention_atlas.db.api import RunReader
from attention_atlas.models.arrays import decode_array


def naive_examples(url: str, run_id: int) -> pd.DataFrame:
    frame = pd.read_sql(f"SELECT * FROM examples WHERE run_id = {run_id}", _url(url))
    for column in ("probabilities", "offsets", "word_ids", "special_mask"):
        frame[column] = [decode_array(b) for b in frame[column]]
    return frame


def naive_agreements(url: str, run_id: int) -> pd.DataFrame:
    return pd.read_sql(f"SELECT * FROM agreements WHERE run_id = {run_id}", _url(url))


def naive_scores(url: str, run_id: int, method: str) -> pd.DataFrame:
    frame = pd.read_sql(
        "SELECT a.example_id, a.scores, e.tokens FROM attributions a JOIN examples e "
        f"ON e.id = a.example_id WHERE e.run_id = {run_id} AND a.method = '{method}'",
        _url(url),
    )
    frame["scores"] = [decode_array(b) for b in frame["scores"]]
    frame["tokens"] = [json.loads(t) for t in frame["tokens"]]
    return frame.explode(["scores", "tokens"])  # one row per token, as the API's long format


def _url(url: str) -> str:
    return url if "://" in url else f"sqlite:///{url}"


def measure(call: Callable[[], Any], repeat: int) -> tuple[int, float, float]:
    """(rows, best seconds, peak MiB under tracemalloc) of ``call()``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
        rows = len(result)
        del result
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return rows, best, peak


def cases(url: str, run: RunReader, method: str) -> dict[str, tuple[Callable, Callable]]:
    return {
        "examples()": (run.examples, lambda: naive_examples(url, run.id)),
        "agreements()": (run.agreements, lambda: naive_agreements(url, run.id)),
        f"scores({method!r})": (
            lambda: run.scores(method),
            lambda: naive_scores(url, run.id, method),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="store URL or SQLite file (read only)")
    parser.add_argument("--run", default=None, help="run name or id (default: the newest)")
    parser.add_argument("--method", default="ig")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with attention_atlas.open(args.db) as store:
        runs = store.runs()
        run = store.run(args.run if args.run is not None else int(runs["id"].iloc[-1]))
        print(f"run {run.name!r}: {run.info.n_examples} examples, methods {run.info.methods}")
        print(f"{'call':<16}{'rows':>10}  {'API s':>7} {'MiB':>7}  {'naive s':>8} {'MiB':>7}")
        for name, (api, naive) in cases(args.db, run, args.method).items():
            rows, seconds, peak = measure(api, args.repeat)
            _, naive_s, naive_peak = measure(naive, args.repeat)
            print(
                f"{name:<16}{rows:>10}  {seconds:>7.2f} {peak:>7.0f}  {naive_s:>8.2f} "
                f"{naive_peak:>7.0f}"
            )


if __name__ == "__main__":
    main()

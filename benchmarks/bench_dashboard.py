"""Server-side latency of the dashboard's main callbacks on a GPT-2-sized synthetic store.

Fills (or reuses) a SQLite store with N synthetic examples (12 layers x 12 heads, 64-512
tokens), then times, through the same functions the Dash callbacks call:

- filter the corpus table (counts + one sorted page, SQL);
- open an example (page layout + token rows / heatmap / head grid callback);
- heads grid over all examples (per-filter mean over the per-run cached stack).

Each timed call uses a fresh random filter so per-filter caches miss; the per-run stacks are
built once first (their cold time is reported separately). A naive reference (everything
loaded into Python per request, filtered / averaged there) is timed in the same run.

    python benchmarks/bench_dashboard.py --examples 20000 --db benchmarks/out/bench.db
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.urlstate import CorpusState, HeadsState
from db.engine import make_engine
from db.migrate import upgrade
from db.synthetic import WORDS, fill_synthetic_store
from models.schema import Agreement, Example, HeadScore


def _fill(path: Path, n: int) -> str:
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    fill_synthetic_store(engine, n, 12, 12, 64, 512, seed=0, full_max_tokens=72)
    print(
        f"filled {n} examples in {time.perf_counter() - start:.0f} s "
        f"({path.stat().st_size / 1e9:.2f} GB)"
    )
    engine.dispose()
    return url


def _timed(fn, repeats: int) -> list[float]:  # noqa: ANN001
    out = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _report(name: str, times: list[float], reference: list[float] | None = None) -> None:
    p50 = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    line = f"{name:<34} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms"
    if reference:
        line += f"   naive p50 {statistics.median(reference):8.1f} ms"
        line += f"  (x{statistics.median(reference) / p50:.1f} faster)"
    print(line + ("   OK" if p95 < 300 else "   over 300 ms"))


def _random_filter(rng: np.random.Generator) -> CorpusState:
    return CorpusState(
        label=[(), (0,), (1,)][int(rng.integers(3))],
        correct=[None, True, False][int(rng.integers(3))],
        minlen=int(rng.integers(64, 200)),
        q=str(rng.choice(["", *WORDS[:20]])),
        measure=str(rng.choice(["spearman", "kendall", "jaccard_5"])),
        band=str(rng.choice(["all", "agree", "between"])),
        sort=str(rng.choice(["id", "x", "confidence", "length"])),
        desc=bool(rng.integers(2)),
        page=int(rng.integers(1, 5)),
    )


def naive_corpus(session, state: CorpusState) -> int:  # noqa: ANN001
    """Reference: load every example and agreement of the run, filter in Python."""
    rows = session.execute(
        select(Example.id, Example.label, Example.correct, Example.length, Example.text)
    ).all()
    ags = dict(
        session.execute(
            select(Agreement.example_id, getattr(Agreement, state.measure)).where(
                Agreement.method_a == "attention", Agreement.method_b == "ig"
            )
        ).all()
    )
    keep = [
        r
        for r in rows
        if (not state.label or r.label in state.label)
        and (state.correct is None or r.correct == state.correct)
        and r.length >= (state.minlen or 0)
        and state.q.lower() in r.text.lower()
        and (state.band != "agree" or (ags.get(r.id) or -9) >= state.agree)
    ]
    keep.sort(key=lambda r: ags.get(r.id) or 0)
    return len(keep)


def naive_heads(session, ids: set[int]) -> np.ndarray:  # noqa: ANN001
    """Reference: decode every head grid blob on each request and average in Python."""
    grids = session.scalars(select(HeadScore.grid).where(HeadScore.reference == "ig")).all()
    return np.mean([g for g in grids], axis=0) if ids else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--db", type=Path, default=Path("benchmarks/out/bench.db"))
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    url = _fill(args.db, args.examples)
    app = create_app(url)
    from dashboard.pages import corpus, example, heads

    rng = np.random.default_rng(1)
    with app.server.test_request_context("/"):
        from dashboard.data import service

        data = service()
        run = data.run(None)
        print(f"run {run.name}: {run.n_examples} examples, {run.num_layers}x{run.num_heads}")
        start = time.perf_counter()
        data.head_stack(run, "ig")
        print(f"cold: head-grid stack of the run built in {time.perf_counter() - start:.2f} s")
        filters = [_random_filter(rng) for _ in range(args.repeats)]
        table = _timed(lambda i: corpus.corpus_view(filters[i]), args.repeats)
        with data.session() as session:
            ref = _timed(lambda i: naive_corpus(session, filters[i]), min(5, args.repeats))
        _report("filter corpus table", table, ref)
        picks = rng.integers(1, run.n_examples + 1, size=args.repeats)
        opened = _timed(
            lambda i: (
                example.layout(example_id=str(picks[i])),
                example.update_example(int(picks[i]), "", "subword", [], -1, -1, "ig", None),
            ),
            args.repeats,
        )
        _report("open example (layout + callback)", opened)
        grid = _timed(
            lambda i: heads.heads_view(HeadsState(corpus=filters[i].with_(page=1))), args.repeats
        )
        all_ids = set(range(1, run.n_examples + 1))
        with data.session() as session:
            ref = _timed(lambda i: naive_heads(session, all_ids), min(3, args.repeats))
        _report("heads grid over all examples", grid, ref)


if __name__ == "__main__":
    main()

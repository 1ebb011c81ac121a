"""Server-side latency of the dashboard's callbacks on a GPT-2-sized synthetic store.

Fills (or reuses) a SQLite store with N synthetic examples (12 layers x 12 heads, 64-512
tokens), or uses the database at ``--db-url`` (PostgreSQL; ``--copy-from`` loads it from a
SQLite store first), then times, through the same functions the Dash callbacks call:

- filter the corpus table (counts + one sorted page);
- the agreement scatter of the filter;
- the heads grid over the filter, with the example lists of a clicked head;
- the faithfulness page over the filter;
- open an example (page layout + token rows / heatmap / head grid callback);
- open examples of 500+ tokens (``--long``, default 300 of them): the layout, the callback
  (tracks in the word view, attention by layer, head grid) and the callback after a pin.

Each timed call uses a fresh random filter, so per-filter caches miss; per-run stacks are
built once first (their cold time is printed separately). A naive reference (everything loaded
into Python per request, filtered / averaged there) is timed beside each. One line per
callback: ``NAME p50 X ms p95 Y ms``.

    python benchmarks/bench_dashboard.py --examples 25000
    tests/tools/pg_cluster.sh start /tmp/pg   # prints URL
    python benchmarks/bench_dashboard.py --db-url URL --copy-from benchmarks/out/bench.db
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import CorpusState, HeadsState
from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.synthetic import WORDS, fill_synthetic_store
from attention_atlas.models.schema import Agreement, Base, Example, Faithfulness, HeadScore

TARGET_MS = 100.0


def _fill(path: Path, n: int) -> str:
    url = f"sqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    upgrade(engine)  # a store from an older version gets the new indexes here
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Example)) or 0
    if stored == 0:
        start = time.perf_counter()
        fill_synthetic_store(engine, n, 12, 12, 64, 512, seed=0, full_max_tokens=72)
        print(
            f"filled {n} examples in {time.perf_counter() - start:.0f} s "
            f"({path.stat().st_size / 1e9:.2f} GB)"
        )
    elif stored != n:
        print(f"note: {path} holds {stored} examples, not {n} (delete it to rebuild)")
    engine.dispose()
    return url


def copy_store(sqlite_path: Path, engine: Engine) -> None:
    """Copy every table of a SQLite store into the empty PostgreSQL database of ``engine``
    (schema from the migrations, rows with COPY, blobs byte for byte), then VACUUM ANALYZE."""
    upgrade(engine)
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    start = time.perf_counter()
    with engine.raw_connection() as raw:
        cursor = raw.cursor()
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = source.execute(f'SELECT {names} FROM "{table.name}"')  # noqa: S608
            booleans = [i for i, c in enumerate(table.columns) if c.type.python_type is bool]
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    if booleans:
                        row = list(row)
                        for i in booleans:
                            row[i] = None if row[i] is None else bool(row[i])
                    copy.write_row(row)
            if "id" in columns and table.c.id.autoincrement:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f'coalesce(max(id), 1)) FROM "{table.name}"'
                )
        raw.commit()
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    print(f"copied {sqlite_path} into PostgreSQL in {time.perf_counter() - start:.0f} s")


def _timed(fn: Callable[[int], object], repeats: int) -> list[float]:
    out = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _report(name: str, times: list[float], reference: list[float] | None = None) -> None:
    p50 = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    line = f"{name:<30} p50 {p50:7.1f} ms p95 {p95:7.1f} ms"
    if reference:
        naive = statistics.median(reference)
        line += f"   naive p50 {naive:8.1f} ms (x{naive / p50:.0f})"
    print(line + ("   OK" if p95 <= TARGET_MS else f"   over {TARGET_MS:.0f} ms"), flush=True)


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


def _controls(state: CorpusState) -> list:
    """The corpus page's control values (``corpus.FILTER_INPUTS`` order) for ``state``."""
    from attention_atlas.dashboard.pages import corpus

    query = state.to_query()
    return [query.get(key) for _, key in corpus.FILTER_INPUTS]


# -- naive references: everything into Python on every request ----------------------------
def _naive_rows(session, state: CorpusState) -> list:
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
    return sorted(keep, key=lambda r: ags.get(r.id) or 0)


def naive_corpus(session, state: CorpusState) -> int:
    return len(_naive_rows(session, state))


def naive_scatter(session, state: CorpusState) -> list:
    ids = {r.id for r in _naive_rows(session, state.with_(band="all"))}
    ys = session.execute(
        select(Agreement.example_id, getattr(Agreement, state.measure)).where(
            Agreement.method_a == "attention", Agreement.method_b == "shap"
        )
    ).all()
    return [(i, v) for i, v in ys if i in ids]


def naive_heads(session, state: CorpusState) -> np.ndarray:
    ids = {r.id for r in _naive_rows(session, state)}
    rows = session.execute(
        select(HeadScore.example_id, HeadScore.grid).where(HeadScore.reference == "ig")
    ).all()
    return np.mean([g for i, g in rows if i in ids], axis=0)


def naive_faithfulness(session, state: CorpusState) -> dict:
    ids = {r.id for r in _naive_rows(session, state)}
    rows = session.execute(
        select(Faithfulness.example_id, Faithfulness.method, Faithfulness.deletion)
    ).all()
    out: dict[str, list] = {}
    for example_id, method, curve in rows:
        if example_id in ids:
            out.setdefault(method, []).append(curve[:2])
    return {m: np.mean(np.stack(v), axis=0) for m, v in out.items()}


def bench(url: str, repeats: int, long_repeats: int = 300, only_long: bool = False) -> None:
    app = create_app(url)
    from attention_atlas.dashboard.data import accuracy
    from attention_atlas.dashboard.pages import corpus, example, faithfulness, heads

    rng = np.random.default_rng(1)
    with app.server.test_request_context("/"):
        from attention_atlas.dashboard.data.service import service

        data = service()
        run = data.run(None)
        print(f"run {run.name}: {run.n_examples} examples, {run.num_layers}x{run.num_heads}")
        if only_long:
            _bench_long_examples(data, run, long_repeats)
            return
        cold = []
        for name, build in (
            ("columns", data.corpus),
            ("head grids", lambda r: data.head_stack(r, "ig")),
            ("sink shares", data.sink_stack),
            ("faithfulness", data.faithfulness),
            ("curves + top-5 vectors", accuracy.warm),
        ):
            start = time.perf_counter()
            build(run)
            cold.append(f"{name} {time.perf_counter() - start:.2f} s")
        print("cold, once per run: " + ", ".join(cold))
        filters = [_random_filter(rng) for _ in range(repeats)]
        n_ref = min(3, repeats)

        def naive(fn: Callable) -> list[float]:
            with data.session() as session:
                return _timed(lambda i: fn(session, filters[i]), n_ref)

        table = _timed(lambda i: corpus.corpus_view(filters[i]), repeats)
        _report("filter corpus table", table, naive(naive_corpus))
        rng.shuffle(filters)  # another order, so the table's per-filter cache does not help
        scatter = _timed(lambda i: corpus.update_scatter(*_controls(filters[i]), None), repeats)
        _report("scatter", scatter, naive(naive_scatter))
        rng.shuffle(filters)
        cells = rng.integers(0, 12, size=(repeats, 2))

        def grid(i: int) -> object:
            state = filters[i].with_(page=1)
            return heads.heads_view(HeadsState(corpus=state, layer=cells[i, 0], head=cells[i, 1]))

        _report("heads grid + example lists", _timed(grid, repeats), naive(naive_heads))
        rng.shuffle(filters)
        faith = _timed(lambda i: faithfulness.layout(**filters[i].to_query()), repeats)
        _report("faithfulness page", faith, naive(naive_faithfulness))
        picks = rng.integers(1, run.n_examples + 1, size=repeats)
        opened = _timed(
            lambda i: (
                example.layout(example_id=str(picks[i])),
                example.update_example(int(picks[i]), "", "subword", [], -1, -1, "ig", None),
            ),
            repeats,
        )
        _report("open example", opened)  # one example: no whole-run reference to compare
        _bench_long_examples(data, run, long_repeats)


LONG = 500  # tokens: "long" examples (the synthetic store's lengths run to 512)


def _bench_long_examples(data, run, repeats: int) -> None:
    """Open examples of at least LONG tokens, each for the first time (no per-example cache):
    the page layout, then the callback with all methods in the word view (the long-text
    default) and again after a token is pinned."""
    from attention_atlas.dashboard.pages import example

    with data.session() as session:
        long_ids = session.scalars(
            select(Example.id)
            .where(Example.run_id == run.id, Example.length >= LONG)
            .order_by(Example.id)
            .limit(repeats)
        ).all()
    if not long_ids:
        print(f"no example of {LONG}+ tokens in this store")
        return
    layouts = _timed(lambda i: example.layout(example_id=str(long_ids[i])), len(long_ids))
    _report(f"example layout, {LONG}+ tokens", layouts)
    calls = _timed(
        lambda i: example.update_example(long_ids[i], "", None, [], -1, -1, "ig", None),
        len(long_ids),
    )
    _report(f"example callback, {LONG}+ tokens", calls)
    pinned = _timed(
        lambda i: example.update_example(long_ids[i], "", "word", [], -1, 3, "ig", 200),
        len(long_ids),
    )
    _report(f"pin a token, {LONG}+ tokens", pinned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25000)
    parser.add_argument("--db", type=Path, default=Path("benchmarks/out/bench.db"))
    parser.add_argument("--db-url", help="time this database instead (e.g. PostgreSQL)")
    parser.add_argument(
        "--copy-from", type=Path, help="with --db-url: first copy this SQLite store into it"
    )
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--long", type=int, default=300, help="examples of 500+ tokens to open")
    parser.add_argument("--only-long", action="store_true", help="time the long examples only")
    args = parser.parse_args()
    if args.db_url:
        url = args.db_url
        if args.copy_from:
            copy_store(args.copy_from, make_engine(url))
    else:
        url = _fill(args.db, args.examples)
    bench(url, args.repeats, args.long, args.only_long)


if __name__ == "__main__":
    main()

"""A first visit to the dashboard in a fresh headless Chromium: how long until the corpus
table shows its first row, against a repeat visit measured in the same run.

Serves a store with ``attention-atlas serve`` (gunicorn, as a user runs it), then, ``--visits``
times (default 5), launches a new Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright;
never ``playwright install``), opens ``/`` with an empty cache and times the first row of
``#corpus-grid`` from navigation start; then opens ``/`` again in the same browser (its cache
warm: the reference, what the server and the page's callbacks cost without the downloads).
Prints each visit, the requests of the last first visit, and one line::

    first visit median X ms (5 fresh browsers) · repeat visit median Y ms · target 1500 ms

The store is ``--db`` (e.g. the demo's ``atlas-demo.db`` from ``attention-atlas demo
--no-serve``) or, by default, a synthetic store of the demo's shape (120 examples, MiniLM's
6 layers x 12 heads, up to 128 tokens) filled once under ``benchmarks/out/``.

    python benchmarks/bench_first_visit.py
    python benchmarks/bench_first_visit.py --db atlas-demo.db
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser and server helpers the tests use

from support.browser import CHROMIUM, chromium, first_page, timing_context  # noqa: E402
from support.serve import serving  # noqa: E402

from attention_atlas.db.engine import make_engine, resolve_url  # noqa: E402
from attention_atlas.db.migrate import upgrade  # noqa: E402
from attention_atlas.db.synthetic import fill_synthetic_store  # noqa: E402

TARGET_MS = 1500.0
DEMO_SHAPE = {"n_examples": 120, "layers": 6, "heads": 12, "min_tokens": 16, "max_tokens": 128}


def synthetic_store(path: Path) -> str:
    """A SQLite store of the demo's shape at ``path`` (filled on first use)."""
    url = f"sqlite:///{path}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        upgrade(engine)
        fill_synthetic_store(engine, **DEMO_SHAPE, seed=0, full_max_tokens=128)
        engine.dispose()
    return url


def measure(base: str, visits: int) -> tuple[list, list]:
    """(first visits, repeat visits): each a :class:`support.browser.FirstPage`."""
    first, repeat = [], []
    for _ in range(visits):
        with chromium() as browser:  # a new browser process: nothing cached, nothing warm
            context = timing_context(browser)
            try:
                first.append(first_page(browser, base, context))
                repeat.append(first_page(browser, base, context))
            finally:
                context.close()
    return first, repeat


def first_page_warmup(base: str) -> None:
    """One visit first, not counted: gunicorn's workers import and fill their caches."""
    with chromium() as browser:
        first_page(browser, base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL or SQLite path (default: synthetic store)")
    parser.add_argument("--visits", type=int, default=5)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"skipped: needs {CHROMIUM} (apt-get install chromium)")
        return
    url = resolve_url(args.db) if args.db else synthetic_store(ROOT / "benchmarks/out/first.db")
    with tempfile.TemporaryDirectory() as folder, serving(url, Path(folder)) as served:
        first_page_warmup(served.base)
        first, repeat = measure(served.base, args.visits)
    for i, (cold, warm) in enumerate(zip(first, repeat, strict=True)):
        print(f"visit {i + 1}: first {cold.rows_ms:.0f} ms, repeat {warm.rows_ms:.0f} ms")
    print("last first visit:", first[-1].summary(top=8))
    cold_ms = statistics.median(v.rows_ms for v in first)
    warm_ms = statistics.median(v.rows_ms for v in repeat)
    print(
        f"first visit median {cold_ms:.0f} ms ({len(first)} fresh browsers) · "
        f"repeat visit median {warm_ms:.0f} ms · target {TARGET_MS:.0f} ms"
    )


if __name__ == "__main__":
    main()

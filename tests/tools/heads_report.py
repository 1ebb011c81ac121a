"""Print a run's head figures as the heads page computes them, and optionally save the page's
screenshot (the README's ``assets/screenshots/heads-causal.png``).

    python tests/tools/heads_report.py --db .cache/demo-heads.db
    python tests/tools/heads_report.py --db .cache/demo-heads.db \\
        --screenshot assets/screenshots/heads-causal.png --layer 5 --head 3

Figures over every example of the run (no filter): the Spearman correlation over heads between
the mean agreement grid and the mean importance grid, per reference and importance measure;
per layer the prediction row's mean share on the reference's top-10% tokens and on frame and
punctuation tokens; how many heads take each role; the most important heads. The screenshot
serves the store with the production server and drives Debian's Chromium (Playwright).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from attention_atlas.dashboard.data import heads as head_data  # noqa: E402
from attention_atlas.dashboard.data.service import AtlasData  # noqa: E402
from attention_atlas.db.engine import resolve_url  # noqa: E402
from attention_atlas.db.queries import CorpusFilter  # noqa: E402
from attention_atlas.models import vocabulary  # noqa: E402


def report(url: str, run_id: int | None) -> None:
    data = AtlasData(url)
    run = data.run(run_id)
    if run is None:
        raise SystemExit(f"no run {run_id} in {url}")
    f = CorpusFilter(run_id=run.id)
    print(f"run {run.name!r} (id {run.id}): {run.num_layers} layers x {run.num_heads} heads")
    for ref in vocabulary.reference_method_ids():
        for kind in vocabulary.HEAD_IMPORTANCE:
            panels = head_data.head_panels(data, run, f, ref, kind)
            rho = "n/a" if panels.correlation is None else f"{panels.correlation:+.3f}"
            print(f"  agreement with {ref} vs {kind} importance: Spearman {rho} (n = {panels.n})")
    panels = head_data.head_panels(data, run, f, vocabulary.default_reference(), "gradient")
    _layers(data, run, f)
    if panels.labels is not None:
        counts = Counter(panels.labels.ravel().tolist())
        print("  roles: " + ", ".join(f"{role} {n}" for role, n in counts.most_common()))
    _top_heads(panels.importance, "gradient")
    ablation = head_data.head_panels(data, run, f, vocabulary.default_reference(), "ablation")
    _top_heads(ablation.importance, "ablation")


def _layers(data: AtlasData, run, f: CorpusFilter) -> None:
    for ref in vocabulary.reference_method_ids():
        panels = head_data.head_panels(data, run, f, ref, "gradient")
        if panels.top_share is None or panels.structure is None:
            continue
        print(f"  per layer, prediction row's share: {ref} top 10% | frame + punctuation")
        for layer, (top, frame) in enumerate(zip(panels.top_share, panels.structure, strict=True)):
            print(f"    layer {layer}: {top:.3f} | {frame:.3f}")


def _top_heads(grid: np.ndarray | None, kind: str, k: int = 5) -> None:
    if grid is None:
        print(f"  {kind}: not stored")
        return
    order = np.argsort(-np.nan_to_num(grid, nan=-np.inf), axis=None)[:k]
    cells = [np.unravel_index(i, grid.shape) for i in order]
    top = ", ".join(f"L{int(a)}H{int(b)} {grid[a, b]:.4f}" for a, b in cells)
    print(f"  most important heads ({kind}): {top}")


def screenshot(url: str, out: Path, query: str) -> None:
    from support.browser import chromium, recording_page, served

    with served(url) as base, chromium() as browser, recording_page(browser, 1500, 1000) as page:
        page.goto(f"{base}/heads{query}")
        page.wait_for_selector("#heads-role-grid .main-svg")
        page.wait_for_function("document.body.innerText.includes('Spearman ρ over heads')")
        page.wait_for_selector("#heads-sentiment-structure .main-svg")
        page.wait_for_timeout(1500)
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": 1500, "height": int(height)})
        page.wait_for_timeout(800)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        if page.errors:
            raise SystemExit(f"console errors: {page.errors}")
    print(f"saved {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--run", type=int)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--layer", type=int)
    parser.add_argument("--head", type=int)
    args = parser.parse_args()
    url = resolve_url(args.db)
    report(url, args.run)
    if args.screenshot:
        query = "" if args.layer is None else f"?layer={args.layer}&head={args.head}"
        screenshot(url, args.screenshot, query)


if __name__ == "__main__":
    main()

"""Shared helpers for the dashboard tests: a small seeded synthetic store built by migrations."""

from __future__ import annotations

from pathlib import Path

from attention_atlas.db.engine import make_engine
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.synthetic import fill_synthetic_store

N_EXAMPLES = 60


def build_store(
    folder: Path, n_examples: int = N_EXAMPLES, seed: int = 7, *, rationales: bool = False
) -> tuple[str, int]:
    """(url, run id) of a fresh SQLite store with one synthetic run (2 layers x 3 heads);
    ``rationales``: with synthetic human rationales and plausibility rows."""
    url = f"sqlite:///{folder / 'atlas.db'}"
    engine = make_engine(url)
    upgrade(engine)
    run_id = fill_synthetic_store(
        engine, n_examples, 2, 3, 8, 40, seed, full_max_tokens=24, rationales=rationales
    )
    engine.dispose()
    return url, run_id

"""``attention-atlas demo``: build (or reuse) the demo classifier and ingest the held-out part of
the demo corpus with every default method, so the dashboard has something real to show.

Both steps are cached: the model folder is keyed on corpus and recipe, and the ingest is
resumable, so a second ``demo`` goes straight to serving.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from attention_atlas.db.writers import RunConflictError
from attention_atlas.ingest.demo.model import LABEL_NAMES, build_demo_model, load_demo_corpus
from attention_atlas.ingest.settings import IngestSettings

DEMO_RUN = "demo"
DEFAULT_CACHE = Path(".cache") / "attention-atlas"
DEMO_SHAP_EVALS = 200


@dataclass(frozen=True)
class DemoTimings:
    fine_tune: float  # seconds (about 0 when the cached model was reused)
    ingest: float
    n_examples: int


def write_held_out(cache_dir: Path) -> Path:
    """The demo corpus's test split as a JSONL file the ingest reads (rewritten only when it
    changed, so the run's settings stay the same)."""
    rows = [r for r in load_demo_corpus() if r["split"] == "test"]
    body = "".join(
        json.dumps({"text": r["text"], "label": r["label"], "tags": r["tags"]}) + "\n" for r in rows
    )
    path = Path(cache_dir) / "demo-test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
    return path


def demo_settings(model_dir: Path, corpus: Path, db_url: str) -> IngestSettings:
    return IngestSettings(
        checkpoint=str(model_dir),
        dataset=str(corpus),
        db=db_url,
        text_field="text",
        label_field="label",
        labels=tuple(LABEL_NAMES),
        run_name=DEMO_RUN,
        batch_size=8,
        max_length=128,
        # the demo's one departure from the defaults (500): Partition SHAP then refines only
        # the most important groups of the longer reviews, which keeps `make demo` in budget
        shap_evals=DEMO_SHAP_EVALS,
    )


def prepare_demo(
    db_url: str, cache_dir: Path = DEFAULT_CACHE, *, progress: bool = True
) -> DemoTimings:
    """Fine-tune or reuse the demo model, then ingest (or finish ingesting) the demo run."""
    from attention_atlas.ingest.pipeline import run_ingest

    started = time.perf_counter()
    model_dir = build_demo_model(Path(cache_dir), progress=progress)
    tuned = time.perf_counter()
    corpus = write_held_out(Path(cache_dir))
    try:
        result = run_ingest(demo_settings(model_dir, corpus, db_url), progress=progress)
    except RunConflictError as exc:
        raise RunConflictError(
            f"{exc} (the demo database was built by another version of attention-atlas: "
            f"delete it or pass another --db)"
        ) from exc
    return DemoTimings(tuned - started, time.perf_counter() - tuned, result.n_done)

"""The embedded demo: a packaged corpus of hand-written movie reviews (``corpus.jsonl``, made by
``make_corpus.py``) and the all-MiniLM-L6-v2 classifier fine-tuned on it (``model.py``).
Importing is cheap: torch and transformers load only when a model is built or evaluated."""

from attention_atlas.ingest.demo.model import build_demo_model, evaluate, load_demo_corpus

__all__ = ["build_demo_model", "evaluate", "load_demo_corpus"]

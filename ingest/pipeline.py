"""The batched, resumable ingest pipeline: corpus + checkpoint -> rows in the store.

Order of work: open and migrate the database, read the corpus (cheap errors first), load the
checkpoint, create or verify the run, skip source indexes already stored, sort the rest by
token length (less padding), then per batch: one forward pass with attentions, the explanation
methods (``ingest.batch``), and one transaction writing examples, attention, explanations and
the run's counters. An interrupted run (Ctrl-C, a killed process) loses at most the batch in
flight; the same command continues it.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from importlib import metadata
from typing import Any

import numpy as np
import torch
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from attention_atlas.db import writers
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.migrate import upgrade
from attention_atlas.db.records import ExampleRecord
from attention_atlas.ingest.adapters import Adapter, Batch, EncodedText, ForwardOutput
from attention_atlas.ingest.batch import ExplainPlan, explain_batch, plan_for
from attention_atlas.ingest.batch_writer import BatchWriter, ComputedBatch
from attention_atlas.ingest.corpus import Corpus, CorpusError, CorpusItem, load_corpus
from attention_atlas.ingest.loading import LoadRequest, load_adapter
from attention_atlas.ingest.methods.base import DEFAULT_TOKEN_BUDGET, GPU_TOKEN_BUDGET
from attention_atlas.ingest.precision import precision_context, resolve_precision
from attention_atlas.ingest.progress import IngestBar
from attention_atlas.ingest.settings import IngestSettings, validate

VERSIONED = (
    "attention-atlas",
    "torch",
    "transformers",
    "captum",
    "shap",
    "datasets",
    "sqlalchemy",
    "numpy",
)


@dataclass(frozen=True)
class IngestResult:
    run_id: int
    run_name: str
    n_source: int
    n_new: int  # examples stored by this call
    n_done: int  # examples stored for the run in all
    n_skipped: int
    seconds: float  # wall time of this call's batches

    @property
    def examples_per_second(self) -> float:
        return self.n_new / self.seconds if self.seconds > 0 else 0.0


def run_ingest(
    settings: IngestSettings,
    *,
    engine: Engine | None = None,
    progress: bool = True,
    on_batch: Callable[[int], None] | None = None,
    corpus: Corpus | None = None,
) -> IngestResult:
    """Ingest per ``settings``; ``engine`` overrides ``settings.db``, ``corpus`` the one the
    settings name (``explain --text`` passes its one text). Raises the user-error exceptions
    of its parts (CorpusError, CheckpointError, RunConflictError, SettingsError,
    DatabaseUrlError); ``on_batch`` is called with the stored count after each batch."""
    validate(settings)
    if settings.threads:
        torch.set_num_threads(settings.threads)  # process-wide, as torch allows no other way
    engine = engine or make_engine(settings.db)
    upgrade(engine)
    corpus, adapter = load_inputs(settings, corpus)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        run_id = writers.get_or_create_run(
            session, settings.name, _run_fields(settings, corpus, adapter)
        )
        done = writers.stored_source_indexes(session, run_id)
        writers.update_run(
            session,
            run_id,
            status="running",
            n_source=corpus.n_source,
            n_skipped=corpus.n_skipped,
            n_done=len(done),
        )
    plan = plan_for(settings, token_budget=token_budget(adapter))
    started = time.perf_counter()
    stored = _process(sessions, run_id, adapter, corpus, done, settings, plan, progress, on_batch)
    elapsed = time.perf_counter() - started
    with sessions.begin() as session:
        n_done = writers.count_examples(session, run_id)
        status = "complete" if n_done + corpus.n_skipped >= corpus.n_source else "running"
        writers.update_run(session, run_id, status=status, n_done=n_done)
    return IngestResult(
        run_id, settings.name, corpus.n_source, stored, n_done, corpus.n_skipped, elapsed
    )


def token_budget(adapter: Adapter) -> int:
    """Rows x width of one evaluation pass on the adapter's device."""
    return GPU_TOKEN_BUDGET if adapter.device.type == "cuda" else DEFAULT_TOKEN_BUDGET


def load_inputs(settings: IngestSettings, corpus: Corpus | None = None) -> tuple[Corpus, Adapter]:
    """The corpus (cheap errors first; ``corpus`` when given) and the checkpoint's adapter,
    labels checked."""
    corpus = corpus or load_corpus(
        settings.dataset,
        split=settings.split,
        text_field=settings.text_field,
        label_field=settings.label_field,
        label_names=settings.labels,
        limit=settings.limit,
        sample=settings.sample,
        seed=settings.seed,
    )
    adapter = load_adapter(_load_request(settings), corpus.label_names)
    _check_labels(corpus, adapter.label_names)
    return corpus, adapter


def _check_labels(corpus: Corpus, label_names: list[str]) -> None:
    bad = sorted(
        {i.label for i in corpus.items if i.label is not None} - set(range(len(label_names)))
    )
    if bad:
        raise CorpusError(
            f"gold label(s) {bad[:5]} in {corpus.source} outside the model's "
            f"{len(label_names)} classes ({', '.join(label_names)})"
        )


def _load_request(settings: IngestSettings) -> LoadRequest:
    names = {f.name for f in fields(LoadRequest)}
    return LoadRequest(**{n: getattr(settings, n) for n in names})


def _run_fields(settings: IngestSettings, corpus: Corpus, adapter: Adapter) -> dict[str, Any]:
    # what the user chose, plus how the methods read those choices (provenance)
    run_settings = plan_for(settings).provenance() | settings.run_settings()
    run_settings["effective_max_length"] = adapter.max_length
    run_settings["effective_precision"] = resolve_precision(settings.precision, adapter.device)
    return {
        "checkpoint": settings.checkpoint,
        "revision": settings.revision,
        "adapter": adapter.kind,
        "dataset": settings.dataset,
        "split": corpus.split,
        "text_field": settings.text_field,
        "label_field": settings.label_field,
        "label_names": list(adapter.label_names),
        "methods": list(settings.methods),
        "settings": run_settings,
        "versions": library_versions(),
        "num_layers": adapter.num_layers,
        "num_heads": adapter.num_heads,
        "status": "running",
        "n_source": corpus.n_source,
        "n_skipped": corpus.n_skipped,
    }


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


# -- batches ------------------------------------------------------------------------------
def _process(
    sessions: sessionmaker[Session],
    run_id: int,
    adapter: Adapter,
    corpus: Corpus,
    done: set[int],
    settings: IngestSettings,
    plan: ExplainPlan,
    progress: bool,
    on_batch: Callable[[int], None] | None,
) -> int:
    """Compute batch after batch; a :class:`BatchWriter` stores each one while the next is
    computed. Returns the number of examples stored."""
    pending = len(corpus.items) - len(done)
    bar = IngestBar(pending, settings.name, plan.stages, progress)
    writer = BatchWriter(sessions, run_id, on_stored=on_batch)
    try:
        for chunk, encoded in _batches(adapter, corpus.items, done, settings.batch_size):
            bar.start_batch(len(encoded))
            writer.put(compute_batch(adapter, chunk, encoded, settings, plan, bar.on_progress))
            bar.end_batch()
    finally:
        stored = writer.close()  # a Ctrl-C still stores the batches already computed
        bar.close()
    return stored


def compute_batch(
    adapter: Adapter,
    chunk: list[CorpusItem],
    encoded: list[EncodedText],
    settings: IngestSettings,
    plan: ExplainPlan,
    on_progress: Callable[[str, float], None],
) -> ComputedBatch:
    started = time.perf_counter()
    with precision_context(adapter.device, resolve_precision(settings.precision, adapter.device)):
        batch = adapter.collate(encoded)
        forward = _forward(adapter, batch)
        explanations = explain_batch(adapter, batch, encoded, forward, plan, on_progress)
    records = _records(chunk, encoded, forward, settings.full_attention_max_tokens)
    return ComputedBatch(records, explanations, time.perf_counter() - started)


def _batches(
    adapter: Adapter, items: tuple[CorpusItem, ...], done: set[int], batch_size: int
) -> Iterator[tuple[list[CorpusItem], list[EncodedText]]]:
    """Batches of not-yet-stored items, sorted by token length (ties by source index).

    Batches are cut from the *whole* corpus in that order and then stripped of stored items.
    A batch is committed whole, so a resumed run meets exactly the batches an uninterrupted
    run would have (same padding, bit-identical numbers) as long as the batch size is kept."""
    encoded = [adapter.encode(item.text) for item in items]
    order = sorted(range(len(items)), key=lambda i: (encoded[i].length, items[i].source_index))
    for start in range(0, len(order), batch_size):
        picked = [i for i in order[start : start + batch_size] if items[i].source_index not in done]
        if picked:
            yield [items[i] for i in picked], [encoded[i] for i in picked]


def _forward(adapter: Adapter, batch: Batch) -> ForwardOutput:
    with torch.no_grad():
        return adapter.forward(batch, output_attentions=True, output_hidden=True)


def _records(
    chunk: list[CorpusItem], encoded: list[EncodedText], forward: ForwardOutput, cap: int
) -> list[ExampleRecord]:
    probabilities = torch.softmax(forward.logits.detach().float(), dim=-1).cpu().numpy()
    # layers x [B, heads, T, T] -> [B, layers, heads, T, T]
    attention = torch.stack([a.detach().float() for a in forward.attentions], dim=1).cpu()
    records = []
    for row, (item, enc) in enumerate(zip(chunk, encoded, strict=True)):
        n = enc.length
        full = attention[row, :, :, :n, :n].numpy()
        records.append(
            ExampleRecord(
                source_index=item.source_index,
                text=item.text,
                tokens=enc.tokens,
                offsets=enc.offsets,
                special_mask=enc.special_mask,
                word_ids=enc.word_ids,
                label=item.label,
                prediction=int(np.argmax(probabilities[row])),
                probabilities=probabilities[row].astype(np.float32),
                prediction_position=enc.prediction_position,
                truncated=enc.truncated,
                attention_rows=np.ascontiguousarray(full[:, :, enc.prediction_position, :]),
                attention_full=full.astype(np.float16) if n <= cap else None,
            )
        )
    return records

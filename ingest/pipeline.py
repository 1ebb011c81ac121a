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
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any

import torch
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from attention_atlas.db import writers
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.db.migrate import upgrade
from attention_atlas.ingest.adapters import Adapter, EncodedText
from attention_atlas.ingest.batch import ExplainPlan, for_adapter, plan_for
from attention_atlas.ingest.batch_writer import BatchWriter
from attention_atlas.ingest.compute import compute_batch, load_request, token_budget
from attention_atlas.ingest.corpus import Corpus, CorpusError, CorpusItem, load_corpus
from attention_atlas.ingest.loading import load_adapter
from attention_atlas.ingest.precision import resolve_precision
from attention_atlas.ingest.progress import IngestBar
from attention_atlas.ingest.settings import IngestSettings, parse_shard, validate

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
    say: Callable[[str], None] | None = None,
) -> IngestResult:
    """Ingest per ``settings``; ``engine`` overrides ``settings.db``, ``corpus`` the one the
    settings name (``explain --text`` passes its one text). Raises the user-error exceptions
    of its parts (CorpusError, CheckpointError, RunConflictError, SettingsError,
    DatabaseUrlError); ``on_batch`` is called with the stored count after each batch, ``say``
    with a line per batch a Ray worker finished (``ingest -v``)."""
    validate(settings)
    if settings.threads:
        torch.set_num_threads(settings.threads)  # process-wide, as torch allows no other way
    engine = engine or make_engine(settings.db)
    upgrade(engine)
    driver_settings = replace(settings, device="cpu") if settings.uses_ray else settings
    corpus, adapter = load_inputs(driver_settings, corpus)
    settings = for_adapter(settings, adapter)
    with _compute_pool(settings, adapter, say) as pool:
        precision = _precision(settings, adapter, pool)
        sessions = session_factory(engine)
        run_id, done = _open_run(sessions, settings, corpus, adapter, precision)
        plan = plan_for(settings, token_budget=token_budget(adapter))
        started = time.perf_counter()
        work = Work(adapter, corpus, done, settings, plan, pool)
        stored = _process(sessions, run_id, work, progress, on_batch)
        elapsed = time.perf_counter() - started
    n_done = _close_run(sessions, run_id, corpus, settings.shard)
    return IngestResult(
        run_id, settings.name, corpus.n_source, stored, n_done, corpus.n_skipped, elapsed
    )


def _precision(settings: IngestSettings, adapter: Adapter, pool: Any) -> str:
    """The precision the batches are computed in: the workers' when they compute them."""
    return pool.precision if pool else resolve_precision(settings.precision, adapter.device)


def _compute_pool(
    settings: IngestSettings, adapter: Adapter, say: Callable[[str], None] | None
) -> AbstractContextManager[Any]:
    """Ray workers when the settings ask for them (checked before any work), else nothing."""
    if not settings.uses_ray:
        return nullcontext(None)
    from attention_atlas.ingest.distributed import WorkerPool

    return WorkerPool(settings, list(adapter.label_names), say)


def _open_run(
    sessions: sessionmaker[Session],
    settings: IngestSettings,
    corpus: Corpus,
    adapter: Adapter,
    precision: str,
) -> tuple[int, set[int]]:
    """Create or verify the run; its id and the source indexes already stored."""
    fields = _run_fields(settings, corpus, adapter, precision)
    try:
        return _start_run(sessions, settings, corpus, fields)
    except IntegrityError:  # a concurrent process (another shard) created it first: join it
        return _start_run(sessions, settings, corpus, fields)


def _start_run(
    sessions: sessionmaker[Session],
    settings: IngestSettings,
    corpus: Corpus,
    fields: dict[str, Any],
) -> tuple[int, set[int]]:
    with sessions.begin() as session:
        run_id = writers.get_or_create_run(session, settings.name, fields)
        done = writers.stored_source_indexes(session, run_id)
        writers.update_run(
            session,
            run_id,
            status="running",
            n_source=corpus.n_source,
            n_skipped=corpus.n_skipped,
            n_done=len(done),
        )
        if settings.shard:
            writers.start_shard(session, run_id, *parse_shard(settings.shard))
    return run_id, done


def _close_run(
    sessions: sessionmaker[Session], run_id: int, corpus: Corpus, shard: str | None
) -> int:
    """Mark the shard done and the run complete when every example is stored; the count."""
    with sessions.begin() as session:
        if shard:
            writers.finish_shard(session, run_id, *parse_shard(shard))
        n_done = writers.count_examples(session, run_id)
        status = "complete" if n_done + corpus.n_skipped >= corpus.n_source else "running"
        writers.update_run(session, run_id, status=status, n_done=n_done)
    return n_done


def load_inputs(settings: IngestSettings, corpus: Corpus | None = None) -> tuple[Corpus, Adapter]:
    """The corpus (cheap errors first; ``corpus`` when given) and the checkpoint's adapter,
    labels checked."""
    corpus = corpus or read_corpus(settings)
    adapter = load_adapter(load_request(settings), corpus.label_names)
    _check_labels(corpus, adapter.label_names)
    return corpus, adapter


def read_corpus(settings: IngestSettings) -> Corpus:
    """The corpus ``settings`` name (dataset, split, fields, limit, sample), without the model."""
    return load_corpus(
        settings.dataset,
        split=settings.split,
        text_field=settings.text_field,
        label_field=settings.label_field,
        label_names=settings.labels,
        limit=settings.limit,
        sample=settings.sample,
        seed=settings.seed,
        rationale_field=settings.rationale_field,
        rationale_format=settings.rationale_format,
    )


def _check_labels(corpus: Corpus, label_names: list[str]) -> None:
    bad = sorted(
        {i.label for i in corpus.items if i.label is not None} - set(range(len(label_names)))
    )
    if bad:
        raise CorpusError(
            f"gold label(s) {bad[:5]} in {corpus.source} outside the model's "
            f"{len(label_names)} classes ({', '.join(label_names)})"
        )


def _run_fields(
    settings: IngestSettings, corpus: Corpus, adapter: Adapter, precision: str
) -> dict[str, Any]:
    # what the user chose, plus how the methods read those choices (provenance); the precision
    # is the one the batches are computed in (a Ray worker's, when workers compute them)
    run_settings = plan_for(settings).provenance() | settings.run_settings()
    run_settings["effective_max_length"] = adapter.max_length
    run_settings["effective_precision"] = precision
    if adapter.stacks:  # what the dashboard offers an encoder-decoder run
        run_settings["stack_shapes"] = {s: list(v) for s, v in adapter.stack_shapes.items()}
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
@dataclass(frozen=True)
class Work:
    """What the batches of one call are cut from and computed with."""

    adapter: Adapter
    corpus: Corpus
    done: set[int]
    settings: IngestSettings
    plan: ExplainPlan
    pool: Any  # a distributed.WorkerPool, or None: this process computes

    def batches(self) -> list[tuple[list[CorpusItem], list[EncodedText]]]:
        shard = parse_shard(self.settings.shard) if self.settings.shard else None
        cut = _batches(self.adapter, self.corpus.items, self.done, self.settings.batch_size)
        return [batch for number, batch in cut if shard is None or number % shard[1] == shard[0]]


def _process(
    sessions: sessionmaker[Session],
    run_id: int,
    work: Work,
    progress: bool,
    on_batch: Callable[[int], None] | None,
) -> int:
    """Compute batch after batch (here or on the workers); a :class:`BatchWriter` stores each
    one while the next is computed. Returns the number of examples stored."""
    batches = work.batches()
    bar = IngestBar(sum(len(chunk) for chunk, _ in batches), work.settings.name,
                    work.plan.stages, progress)  # fmt: skip
    writer = BatchWriter(sessions, run_id, on_stored=on_batch)
    try:
        if work.pool is None:
            for chunk, encoded in batches:
                bar.start_batch(len(encoded))
                args = (work.adapter, chunk, encoded, work.settings, work.plan, bar.on_progress)
                writer.put(compute_batch(*args))
                bar.end_batch()
        else:
            for computed in work.pool.compute(batches):
                bar.start_batch(len(computed.records))
                writer.put(computed)
                bar.end_batch()
    finally:
        stored = writer.close()  # a Ctrl-C still stores the batches already computed
        bar.close()
    return stored


def _batches(
    adapter: Adapter, items: tuple[CorpusItem, ...], done: set[int], batch_size: int
) -> Iterator[tuple[int, tuple[list[CorpusItem], list[EncodedText]]]]:
    """Numbered batches of not-yet-stored items, sorted by token length (ties by source index).

    Batches are cut from the *whole* corpus in that order and then stripped of stored items.
    A batch is committed whole, so a resumed run meets exactly the batches an uninterrupted
    run would have (same padding, bit-identical numbers) as long as the batch size is kept;
    the numbers, counted over the whole corpus, are what ``--shard I/N`` deals out."""
    encoded = [adapter.encode(item.text, item.text_pair) for item in items]
    order = sorted(range(len(items)), key=lambda i: (encoded[i].length, items[i].source_index))
    for number, start in enumerate(range(0, len(order), batch_size)):
        picked = [i for i in order[start : start + batch_size] if items[i].source_index not in done]
        if picked:
            yield number, ([items[i] for i in picked], [encoded[i] for i in picked])

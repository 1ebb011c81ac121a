"""Store computed batches from a background thread, so batch n is written while batch n+1 is
computed (on a GPU the writes would otherwise leave it idle).

Each batch is still one transaction (stored whole or not at all) and batches are written in
order; the queue is bounded, so compute runs at most ``depth`` batches ahead and memory stays
flat. :meth:`BatchWriter.close` waits for every queued batch (a Ctrl-C in the compute loop still
stores what was computed); an error in the writer is raised in the caller at the next
:meth:`~BatchWriter.put` or at :meth:`~BatchWriter.close`. A killed process loses the queued
batches, which the next run of the same command computes again (resume keys on source index).
A batch whose examples another process of the same run stored meanwhile keeps theirs and adds
the rest (the unique source index per run is the arbiter). A database that goes away (a
PostgreSQL restart, a dropped connection, a SQLite file locked too long) is retried with backoff
for :data:`RETRY_SECONDS`; after that the ingest stops with :class:`StoreUnavailableError`, one
line, and the same command continues the run with nothing lost or doubled.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from attention_atlas.db import writers
from attention_atlas.db.records import ExampleExplanation, ExampleRecord

RETRY_SECONDS = 120.0  # how long a batch waits for a database that went away


class StoreUnavailableError(RuntimeError):
    """The database stayed unreachable for :data:`RETRY_SECONDS` while a batch waited to be
    stored (a user-facing error: the same command resumes the run)."""


@dataclass(frozen=True)
class ComputedBatch:
    records: Sequence[ExampleRecord]
    explanations: Sequence[ExampleExplanation]
    seconds: float  # compute time, added to the run's total


class BatchWriter:
    """Writes :class:`ComputedBatch` es of run ``run_id`` in order, one transaction each."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        run_id: int,
        *,
        depth: int = 2,
        on_stored: Callable[[int], None] | None = None,
    ) -> None:
        self.sessions, self.run_id, self.on_stored = sessions, run_id, on_stored
        self.retry_seconds = RETRY_SECONDS
        self.stored = 0
        self._queue: queue.Queue[ComputedBatch | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="atlas-writer", daemon=True)
        self._thread.start()

    def put(self, batch: ComputedBatch) -> None:
        self._raise_error()
        self._queue.put(batch)

    def close(self) -> int:
        """Write what is queued, stop the thread; the number of examples stored."""
        self._queue.put(None)
        self._thread.join()
        self._raise_error()
        return self.stored

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain without writing after a failure
            try:
                self._write(batch)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

    def _write(self, batch: ComputedBatch) -> None:
        n = _retrying(lambda: self._store_once(batch), self.retry_seconds)
        self.stored += n
        if self.on_stored is not None:
            self.on_stored(self.stored)

    def _store_once(self, batch: ComputedBatch) -> int:
        try:
            return self._store(batch.records, batch.explanations, batch.seconds)
        except IntegrityError:
            # another process of the same run (same settings, so the same numbers) stored some
            # of these source indexes after this one read what was done (or a commit whose
            # answer a dropped connection lost went through): keep theirs, add ours
            return self._store(*self._not_yet_stored(batch), batch.seconds)

    def _store(
        self,
        records: Sequence[ExampleRecord],
        explanations: Sequence[ExampleExplanation],
        seconds: float,
    ) -> int:
        with self.sessions.begin() as session:  # one transaction per batch: all or nothing
            ids = writers.write_examples(session, self.run_id, records) if records else []
            writers.write_explanations(session, self.run_id, ids, explanations)
            writers.add_run_progress(session, self.run_id, len(ids), seconds)
        return len(ids)

    def _not_yet_stored(self, batch: ComputedBatch) -> tuple[list, list]:
        with self.sessions() as session:
            done = writers.stored_source_indexes(session, self.run_id)
        kept = [
            (record, explanation)
            for record, explanation in zip(batch.records, batch.explanations, strict=True)
            if record.source_index not in done
        ]
        return [r for r, _ in kept], [e for _, e in kept]

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


def _retrying(store: Callable[[], int], limit: float) -> int:
    """``store()``, tried again with backoff (0.5 s doubling to 10 s) while the database is
    unreachable, for ``limit`` seconds in all; then :class:`StoreUnavailableError`."""
    deadline, pause = time.monotonic() + limit, 0.5
    while True:
        try:
            return store()
        except OperationalError as exc:
            if time.monotonic() + pause > deadline:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise StoreUnavailableError(
                    f"the database did not answer for {limit:.0f} s while storing a batch "
                    f"({reason}); run the same command again to continue the run"
                ) from exc
            time.sleep(pause)
            pause = min(pause * 2, 10.0)

"""Batches computed by a pool of Ray actors (``ingest --workers N`` / ``--ray-address``).

The driver (:func:`attention_atlas.ingest.pipeline.run_ingest`) reads the corpus, skips stored
examples and cuts the same length-sorted batches as a single process; each :class:`BatchWorker`
actor loads the checkpoint once, on its own node, and runs
:func:`~attention_atlas.ingest.compute.compute_batch` on the batches dealt to it; finished
batches come back to the driver's ``BatchWriter``. So no worker needs database credentials,
SQLite works as PostgreSQL does, and every guarantee of a single process holds: one
transaction per batch, resume by source index, the run's identity.

Faults: actors restart when their process dies (killed, node lost, CUDA OOM) and Ray retries
the batch in flight on the restarted actor, so a dead worker costs that batch only; nothing is
stored twice because only the driver writes. A cluster that cannot be reached, or a checkpoint
the workers cannot load, ends with one line (:class:`WorkerError`) before any batch is dealt.

This is Ray core's actor pool rather than Ray Data's ``map_batches``: the batches are cut by
the driver (so the resume and length-sorting rules stay in one place) and written by it (so
SQLite stays usable), which Ray Data's dataset-in, dataset-out model would not give.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from attention_atlas.ingest.adapters import EncodedText
from attention_atlas.ingest.batch_writer import ComputedBatch
from attention_atlas.ingest.corpus import CorpusItem
from attention_atlas.ingest.settings import IngestSettings

READY_TIMEOUT_S = 600.0  # a checkpoint download / load on a cold node can take minutes
LOCAL_OBJECT_STORE_BYTES = 512 * 1024**2  # computed batches in flight: a few MB each
INSTALL_HINT = "--workers needs Ray: pip install 'attention-atlas[scale]'"

Work = tuple[list[CorpusItem], list[EncodedText]]


class WorkerError(RuntimeError):
    """The workers cannot start: Ray missing, a cluster that cannot be reached, a checkpoint
    the workers cannot load, or resources no node has (a user error: exit code 2)."""


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker reports once its checkpoint is loaded."""

    pid: int
    node: str
    device: str
    precision: str


class BatchWorker:
    """One Ray actor: loads the checkpoint once (lazily again after a restart) and computes
    batches as the single-process pipeline does."""

    def __init__(self, settings: IngestSettings, label_names: list[str]) -> None:
        self.settings = settings
        self.label_names = label_names
        self.adapter: Any = None
        self.plan: Any = None

    def ready(self) -> WorkerInfo | str:
        """Load the checkpoint; the worker's description, or the user error as one line."""
        from attention_atlas.ingest.adapters import AdapterError
        from attention_atlas.ingest.loading import CheckpointError

        try:
            self._load()
        except (CheckpointError, AdapterError) as exc:
            return str(exc)
        from attention_atlas.ingest.precision import resolve_precision

        device = self.adapter.device
        precision = resolve_precision(self.settings.precision, device)
        return WorkerInfo(os.getpid(), socket.gethostname(), str(device), precision)

    def compute(self, work: Work) -> tuple[int, ComputedBatch]:
        """The batch computed, with this worker's process id (for ``-v``'s per-worker lines)."""
        from attention_atlas.ingest.compute import compute_batch

        self._load()
        chunk, encoded = work
        computed = compute_batch(self.adapter, chunk, encoded, self.settings, self.plan, _quiet)
        return os.getpid(), computed

    def _load(self) -> None:
        if self.adapter is not None:
            return
        import torch

        from attention_atlas.ingest.batch import plan_for
        from attention_atlas.ingest.compute import load_request, token_budget
        from attention_atlas.ingest.loading import load_adapter

        if self.settings.threads:
            torch.set_num_threads(self.settings.threads)
        self.adapter = load_adapter(load_request(self.settings), self.label_names)
        self.plan = plan_for(self.settings, token_budget=token_budget(self.adapter))


def _quiet(stage: str, share: float) -> None:
    """Workers do not report progress within a batch: the driver's bar moves per batch."""


class WorkerPool:
    """``settings.workers`` actors on the Ray cluster the settings name (a local instance by
    default). Use as a context manager: leaving it kills the actors (Ctrl-C included) and stops
    a Ray instance it started."""

    def __init__(
        self,
        settings: IngestSettings,
        label_names: list[str],
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.label_names = label_names
        self.say = say  # -v: one line per finished batch, naming its worker
        self.actors: list[Any] = []
        self.infos: list[WorkerInfo] = []
        self._started_ray = False

    def __enter__(self) -> WorkerPool:
        ray = _import_ray()
        self._started_ray = connect(ray, self.settings)
        try:
            self._start(ray)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        ray = _import_ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._started_ray:
            ray.shutdown()

    @property
    def precision(self) -> str:
        return self.infos[0].precision

    def compute(self, work: Iterable[Work]) -> Iterator[ComputedBatch]:
        """Each batch of ``work`` computed by some actor, as they finish (not in order)."""
        from ray.util import ActorPool

        pool = ActorPool(self.actors)
        # longest batches first (work comes length-sorted, shortest first): the short ones
        # then fill the gaps at the end; simulated at 128 workers, 95% of linear scaling
        # instead of 88% (benchmarks/bench_scaleout.py). Each batch is its own transaction,
        # so the order changes no stored number.
        for item in reversed(list(work)):
            pool.submit(lambda actor, value: actor.compute.remote(value), item)
        done: dict[int, int] = {}
        while pool.has_next():
            pid, computed = pool.get_next_unordered()
            done[pid] = done.get(pid, 0) + 1
            if self.say is not None:
                self.say(self._line(pid, computed, done[pid]))
            yield computed

    def _line(self, pid: int, computed: ComputedBatch, n_batches: int) -> str:
        known = {info.pid: info for info in self.infos}
        where = (
            f"{known[pid].node} {known[pid].device}" if pid in known else "restarted after a fault"
        )
        return (
            f"worker {pid} ({where}): {len(computed.records)} examples in "
            f"{computed.seconds:.1f} s, its batch {n_batches}"
        )

    def _start(self, ray: Any) -> None:
        gpus = self.settings.gpus_per_worker
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        actor_class = ray.remote(BatchWorker).options(
            num_cpus=self.settings.threads or 1,
            num_gpus=gpus,
            max_restarts=-1,
            max_task_retries=-1,
        )
        settings = self.settings if gpus else replace(self.settings, device="cpu")
        self.actors = [
            actor_class.remote(settings, self.label_names) for _ in range(self.settings.workers)
        ]
        self.infos = self._ready(ray, gpus)

    def _ready(self, ray: Any, gpus: float) -> list[WorkerInfo]:
        refs = [actor.ready.remote() for actor in self.actors]
        done, waiting = ray.wait(refs, num_returns=len(refs), timeout=READY_TIMEOUT_S)
        if waiting:
            raise WorkerError(
                f"{len(waiting)} of {len(refs)} Ray workers did not start within "
                f"{READY_TIMEOUT_S:.0f} s: does a node have {self.settings.threads or 1} CPU(s)"
                f"{f' and {gpus:g} GPU(s)' if gpus else ''} free for each?"
            )
        answers = ray.get(done)
        for answer in answers:
            if isinstance(answer, str):
                raise WorkerError(f"a Ray worker could not load the checkpoint: {answer}")
        return answers


def connect(ray: Any, settings: IngestSettings) -> bool:
    """Join the cluster ``settings.ray_address`` names, or start a local instance sized to this
    machine; True when this call started Ray (so it stops it too). A Ray instance already
    running in this process (a test session, a notebook) is used as it is."""
    if ray.is_initialized():
        return False
    address = settings.ray_address
    quiet = {"log_to_driver": False, "configure_logging": False}
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise WorkerError(f"cannot join the Ray cluster at {address}: {exc}") from None
        return True
    per_worker = settings.threads or 1
    ray.init(
        num_cpus=max(os.cpu_count() or 1, settings.workers * per_worker),
        object_store_memory=LOCAL_OBJECT_STORE_BYTES,
        include_dashboard=False,
        **quiet,
    )
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A host:port or ray://host:port address answers a TCP connect (Ray itself would retry
    for minutes); 'auto' is left to Ray, which fails at once when no cluster runs here."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise WorkerError(f"--ray-address takes auto, host:port or ray://host:port, got {address}")
    started = time.monotonic()
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        waited = time.monotonic() - started
        raise WorkerError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}, {waited:.1f} s)"
        ) from None


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise WorkerError(INSTALL_HINT) from None
    return ray

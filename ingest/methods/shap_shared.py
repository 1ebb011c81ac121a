"""SHAP for a whole batch with shared model passes (the GPU path of ``compute_shap``).

Each example's Partition explainer runs in its own thread; its model calls do not run the model
but wait in :class:`LockstepPasses`, which, once every live explainer is waiting, evaluates all
their pending masks in one :func:`~ingest.methods.base.evaluate_ids` call (rows packed by length
up to the token budget) on the calling thread, and hands each explainer its rows back. The values
are those of one explainer at a time (the same masks, the same tie-breaking: each thread draws
shap's tie-break numbers from its own ``RandomState(seed)``, as the sequential path does from the
reseeded global one); only the padding of the shared passes differs, which moves fp32 results by
about 1e-7. On a CPU the sequential path is kept: it is as fast there and bit-stable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import shap.explainers._partition as partition_module
import torch

from attention_atlas.ingest.methods.base import MethodResult, Report, evaluate_ids

if TYPE_CHECKING:
    from attention_atlas.ingest.adapters import Adapter, EncodedText

# explain one example: (item, target, report, evaluate) -> result
ExplainOne = Callable[["EncodedText", int, Report, Callable[..., torch.Tensor]], MethodResult]


@dataclass
class _Slot:
    """One explainer's pending model call: its id rows, and their logits once evaluated."""

    rows: list[np.ndarray]
    positions: list[int]
    token_types: list[list[int] | None]
    out: torch.Tensor | None = None


class LockstepPasses:
    """Collects the model calls of ``workers`` threads and runs them together."""

    def __init__(self, adapter: Adapter, budget: int, workers: int) -> None:
        self.adapter, self.budget, self.live = adapter, budget, workers
        self.cond = threading.Condition()
        self.pending: list[_Slot] = []

    def evaluate(
        self,
        rows: list[np.ndarray],
        positions: list[int],
        token_types: list[list[int] | None] | None = None,
    ) -> torch.Tensor:
        """Worker side: logits [len(rows), classes], once the shared pass has run;
        ``token_types``: each row's segment ids (sentence pairs)."""
        slot = _Slot(rows, positions, list(token_types or [None] * len(rows)))
        with self.cond:
            self.pending.append(slot)
            self.cond.notify_all()
            while slot.out is None:
                self.cond.wait()
        return slot.out

    def finished(self) -> None:
        """Worker side: this explainer will ask for nothing more."""
        with self.cond:
            self.live -= 1
            self.cond.notify_all()

    def serve(self) -> None:
        """Caller side: run shared passes until every worker has finished."""
        while True:
            with self.cond:
                while self.live and len(self.pending) < self.live:
                    self.cond.wait()
                if not self.pending:
                    return
                slots, self.pending = self.pending, []
            rows = [r for s in slots for r in s.rows]
            positions = [p for s in slots for p in s.positions]
            types = [t for s in slots for t in s.token_types]
            logits = evaluate_ids(
                self.adapter, rows, positions, budget=self.budget, token_types=types
            )
            with self.cond:
                start = 0
                for slot in slots:
                    slot.out = logits[start : start + len(slot.rows)]
                    start += len(slot.rows)
                self.cond.notify_all()


class _ThreadRandomNumpy(ModuleType):
    """numpy as shap's partition module sees it, with ``random`` per thread (seeded)."""

    def __init__(self, seed: int) -> None:
        super().__init__("numpy")
        self._seed, self._local = seed, threading.local()

    @property
    def random(self) -> np.random.RandomState:
        if not hasattr(self._local, "rng"):
            self._local.rng = np.random.RandomState(self._seed)
        return self._local.rng

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


def explain_examples_shared(
    adapter: Adapter,
    items: list[EncodedText],
    targets: list[int],
    explain_one: ExplainOne,
    *,
    budget: int,
    seed: int,
    report: Report,
) -> list[MethodResult]:
    """``explain_one`` (the sequential path's per-example SHAP) for every example of a batch,
    each in its own thread, their model calls in shared passes of at most ``budget`` tokens."""
    passes = LockstepPasses(adapter, budget, len(items))
    results: list[MethodResult | None] = [None] * len(items)
    errors: list[BaseException] = []
    shares = [0.0] * len(items)

    def share_of(i: int, share: float) -> None:
        shares[i] = share
        report(sum(shares) / len(items))

    def work(i: int) -> None:
        try:
            share = partial(share_of, i)
            results[i] = explain_one(items[i], targets[i], share, passes.evaluate)
        except BaseException as exc:  # re-raised on the calling thread
            errors.append(exc)
        finally:
            passes.finished()

    original = partition_module.np
    partition_module.np = _ThreadRandomNumpy(seed)
    try:
        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(items))]
        for thread in threads:
            thread.start()
        passes.serve()
        for thread in threads:
            thread.join()
    finally:
        partition_module.np = original
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]

"""The ingest progress bar. It moves *within* a batch: every method reports the share of its
work done from its evaluation loops (``ingest.batch.explain_batch``'s ``on_progress``), and the
bar turns that into examples using how long each stage took on the batches before (equal shares
until one batch is done). So the bar and tqdm's time-left estimate move every few seconds however
long the texts are, and the bar names the stage that is running.
"""

from __future__ import annotations

import time

from tqdm.auto import tqdm


class IngestBar:
    """A tqdm bar over ``total`` examples whose batches advance stage by stage."""

    def __init__(
        self,
        total: int,
        name: str,
        stages: tuple[str, ...],
        enabled: bool,
        file=None,
    ) -> None:
        self.name = name[:40]
        self.stages = stages
        self.seconds = dict.fromkeys(stages, 0.0)  # measured per stage over finished batches
        self.bar = tqdm(
            total=total, unit="ex", disable=not enabled or total <= 0, desc=self.name,
            dynamic_ncols=True, smoothing=0.1, file=file,
        )  # fmt: skip
        self._size = 0
        self._start = 0.0  # the bar's position when the batch started
        self._shares: dict[str, tuple[float, float]] = {}  # stage -> (before, own) share
        self._stage: str | None = None
        self._stage_started = 0.0

    def start_batch(self, size: int) -> None:
        self._size, self._start, self._stage = size, float(self.bar.n), None
        total = sum(self.seconds.values())
        weights = [
            self.seconds[s] / total if total > 0 else 1 / len(self.stages) for s in self.stages
        ]
        before = 0.0
        for stage, weight in zip(self.stages, weights, strict=True):
            self._shares[stage] = (before, weight)
            before += weight

    def on_progress(self, stage: str, share: float) -> None:
        """``stage`` of the current batch is ``share`` (0..1) done."""
        if stage != self._stage:
            self._close_stage()
            self._stage, self._stage_started = stage, time.perf_counter()
            self.bar.set_description_str(f"{self.name} [{stage}]", refresh=False)
        before, own = self._shares.get(stage, (0.0, 0.0))
        self._move_to(self._start + self._size * (before + own * min(max(share, 0.0), 1.0)))

    def end_batch(self) -> None:
        self._close_stage()
        self._stage = None
        self.bar.set_description_str(self.name, refresh=False)
        self._move_to(self._start + self._size)

    def close(self) -> None:
        self.bar.close()

    def _close_stage(self) -> None:
        if self._stage in self.seconds:
            self.seconds[self._stage] += time.perf_counter() - self._stage_started

    def _move_to(self, position: float) -> None:
        step = position - self.bar.n
        if step > 1e-9:
            self.bar.update(step)

"""The ingest progress bar. It moves *within* a batch: every method reports the share of its
work done from its evaluation loops (``ingest.batch.explain_batch``'s ``on_progress``), and the
bar turns that into examples using how long each stage took on the batches before (equal shares
until one batch is done). So the bar and tqdm's time-left estimate move every few seconds however
long the texts are, and the bar names the stage that is running. It prints whole examples
(the position moves in fractions, the count shown is the examples passed) and a pace that reads
at both ends, "12 examples/s" or "46 s per example" (:func:`pace`, also the CLI's summary).
"""

from __future__ import annotations

import math
import time
from typing import Any, TextIO

from tqdm.auto import tqdm

MIN_BAR = 10  # columns the bar itself keeps in a narrow terminal
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {whole}/{total_fmt} [{elapsed}<{remaining}, {pace}]"


def pace(per_second: float | None) -> str:
    """``per_second`` examples a second in words: "120 examples/s", "2.5 examples/s" when one
    or more a second, else the time one example takes: "1.3 s per example", "46 s per example",
    "3.3 min per example", "2.0 h per example"; "? examples/s" when nothing was timed."""
    if not per_second or per_second <= 0 or not math.isfinite(per_second):
        return "? examples/s"
    if per_second >= 1:
        return f"{_short(per_second)} examples/s"
    seconds = 1 / per_second
    if seconds < 90:
        return f"{_short(seconds)} s per example"
    if seconds < 5400:
        return f"{_short(seconds / 60)} min per example"
    return f"{_short(seconds / 3600)} h per example"


def _short(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


class _ExampleBar(tqdm):
    """tqdm with two more fields for :data:`BAR_FORMAT`: ``whole`` (examples passed) and
    ``pace`` (the smoothed rate in words); in a narrow terminal the run's name is shortened
    rather than the counts and pace cut off at the right edge."""

    @property
    def format_dict(self) -> dict[str, Any]:
        values = super().format_dict
        n, elapsed, rate = values["n"], values["elapsed"], values["rate"]
        if rate is None and elapsed:
            rate = (n - self.initial) / elapsed
        # floating sums of shares may end a hair below a whole count: 11.999999 is 12
        whole, words = math.floor(n + 1e-6), pace(rate)
        if values.get("ncols"):
            stats = f": 100%|| {whole}/{values['total']} [0:00:00<0:00:00, {words}]"
            room = values["ncols"] - len(stats) - MIN_BAR
            values["prefix"] = fit_name(values["prefix"] or "", room)
        return {**values, "whole": whole, "pace": words}


def fit_name(desc: str, room: int) -> str:
    """``desc`` ("name [stage]") in ``room`` characters, the name cut short, the stage kept."""
    if len(desc) <= room:
        return desc
    name, bracket, stage = desc.partition(" [")
    tail = bracket + stage
    return name[: max(room - len(tail) - 1, 4)] + "…" + tail


class IngestBar:
    """A tqdm bar over ``total`` examples whose batches advance stage by stage."""

    clock = staticmethod(time.perf_counter)  # times the stages, which weight the next batch

    def __init__(
        self,
        total: int,
        name: str,
        stages: tuple[str, ...],
        enabled: bool,
        file: TextIO | None = None,
    ) -> None:
        self.name = name[:40]
        self.stages = stages
        self.seconds = dict.fromkeys(stages, 0.0)  # measured per stage over finished batches
        self.bar = _ExampleBar(
            total=total, unit="ex", disable=not enabled or total <= 0, desc=self.name,
            dynamic_ncols=True, smoothing=0.1, file=file, bar_format=BAR_FORMAT,
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
            self._stage, self._stage_started = stage, self.clock()
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
            self.seconds[self._stage] += self.clock() - self._stage_started

    def _move_to(self, position: float) -> None:
        step = position - self.bar.n
        if step > 1e-9:
            self.bar.update(step)

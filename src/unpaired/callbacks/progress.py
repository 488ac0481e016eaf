"""Progress that fits a GAN run: one bar per epoch in a terminal, a line every few steps in a log.

Both show the iterations per second, the time the epoch has left and the last values of the
main losses (each update's total: ``G``, ``D``, ...) and, once validated, the error against the
true translation. The values come from what the module logs with ``prog_bar=True``.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar

log = logging.getLogger(__name__)


def shown_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The progress metrics under short names (``train/G`` -> ``G``, ``val/gt_L1_AB`` ->
    ``gt_L1_AB``), without Lightning's version number."""
    return {
        name.split("/", 1)[-1]: float(value)
        for name, value in metrics.items()
        if name != "v_num" and isinstance(value, int | float)
    }


class EpochBar(RichProgressBar):
    """Lightning's rich bar (one per epoch, iterations/s, time left) with the short metrics."""

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = shown_metrics(super().get_metrics(trainer, pl_module))
        return {name: f"{value:.3g}" for name, value in metrics.items()}


class ProgressLines(ProgressBar):
    """A line every ``every_n_steps`` training batches and at each epoch's end, for output that
    is not a terminal (a log file, a cluster job's output), where a bar would show nothing."""

    def __init__(self, every_n_steps: int = 100) -> None:
        super().__init__()
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self._enabled = True
        self._epoch_started = 0.0
        self._trained = 0.0  # seconds of training (not validation) in this epoch so far

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_started = time.monotonic()
        self._trained = 0.0

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        self._trained = time.monotonic() - self._epoch_started
        if not self._enabled or (i + 1) % self.every_n_steps:
            return
        total = self.total_train_batches
        rate = (i + 1) / self._trained if self._trained > 0 else 0.0
        left = (total - i - 1) / rate if rate > 0 and total != float("inf") else 0.0
        log.info(
            "%s  batch %d/%s  %.2f it/s  %s left  %s",
            self._epoch(trainer),
            i + 1,
            total,
            rate,
            timedelta(seconds=round(left)),
            self._values(trainer, pl_module),
        )

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._enabled:
            return
        batches = self.total_train_batches
        rate = batches / self._trained if self._trained > 0 else 0.0
        log.info(
            "%s done: %s batches in %s (%.2f it/s)  %s",
            self._epoch(trainer),
            batches,
            timedelta(seconds=round(self._trained)),
            rate,
            self._values(trainer, pl_module),
        )

    @staticmethod
    def _epoch(trainer: L.Trainer) -> str:
        epochs = "" if trainer.max_epochs in (None, -1) else f"/{trainer.max_epochs}"
        return f"epoch {trainer.current_epoch + 1}{epochs}"

    def _values(self, trainer: L.Trainer, pl_module: L.LightningModule) -> str:
        metrics = shown_metrics(self.get_metrics(trainer, pl_module))
        return "  ".join(f"{name} {value:.3g}" for name, value in metrics.items())


def progress_bar(every_n_steps: int = 100) -> ProgressBar:
    """The epoch bar in a terminal, lines every ``every_n_steps`` batches otherwise."""
    return EpochBar() if sys.stdout.isatty() else ProgressLines(every_n_steps)

"""Report skipped non-finite updates, and stop a run that keeps producing them."""

from __future__ import annotations

import logging
from typing import Any

import lightning as L

from unpaired.errors import NonFiniteError

log = logging.getLogger(__name__)


class NonFiniteGuard(L.Callback):
    """Warns of skipped updates, and stops training after ``max_consecutive`` optimiser steps in
    a row were non-finite.

    :class:`~unpaired.models.base.GenerativeModule` skips each such step (the weights and
    optimiser state stay as they were) and counts it on the device, with the longest streak
    since this callback last looked. Reading the counts waits for the device, so this callback
    reads them every ``check_every_n_steps`` training batches (and at each epoch's end): the
    stop rule is the same, a streak that long anywhere in between is seen, only up to that many
    batches later. A streak this long means training has diverged rather than hit one bad
    batch. The :class:`NonFiniteError` it raises makes the checkpoint callback save
    ``last.ckpt`` first, which then holds the state of the last good step.
    """

    def __init__(self, max_consecutive: int = 10, check_every_n_steps: int = 1) -> None:
        super().__init__()
        if max_consecutive < 1:
            raise ValueError(f"max_consecutive must be >= 1, got {max_consecutive}")
        if check_every_n_steps < 1:
            raise ValueError(f"check_every_n_steps must be >= 1, got {check_every_n_steps}")
        self.max_consecutive = max_consecutive
        self.check_every_n_steps = check_every_n_steps
        self._reported = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._reported = int(pl_module.nonfinite_steps)  # a resumed run's earlier ones

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        last_of_epoch = batch_idx + 1 == trainer.num_training_batches
        if (batch_idx + 1) % self.check_every_n_steps == 0 or last_of_epoch:
            self._check(trainer, pl_module, batch_idx)

    def _check(self, trainer: L.Trainer, pl_module: L.LightningModule, batch_idx: int) -> None:
        total = int(pl_module.nonfinite_steps)
        streak = int(pl_module.longest_nonfinite_streak)
        pl_module.longest_nonfinite_streak.copy_(pl_module.consecutive_nonfinite_steps)
        if total > self._reported:
            log.warning(
                "non-finite loss or gradient in epoch %d, batch %d: %d update(s) skipped (%d in "
                "a row, %d in all)",
                trainer.current_epoch,
                batch_idx,
                total - self._reported,
                streak,
                total,
            )
        self._reported = total
        if streak >= self.max_consecutive:
            raise NonFiniteError(
                f"{streak} optimiser steps in a row had a non-finite loss or gradient (epoch "
                f"{trainer.current_epoch}, batch {batch_idx}), so training stopped. Those steps "
                "were skipped: the run's checkpoints/last.ckpt holds the weights of the last good "
                "step. Check the data and the loss settings; "
                "callbacks.nonfinite_guard.max_consecutive sets how long a streak is tolerated."
            )

"""Reporting a run's validation metric to its Optuna trial every epoch, and stopping the run
when the study's pruner says so."""

from __future__ import annotations

import logging

import lightning as L
from lightning.pytorch.callbacks import Callback

from unpaired.sweeps.trial import StudyTrial

log = logging.getLogger(__name__)


class TrialPruning(Callback):
    """After each validation, the first process reports ``monitor`` to the trial; if the pruner
    says to stop, every process stops at the end of this epoch (``trainer.should_stop``), so the
    run ends as any other: last.ckpt written, the ground-truth report made. ``pruned_at`` is then
    the epoch, and the run records its trial as pruned.

    Not optuna-integration's ``PyTorchLightningPruningCallback``: on one process it stops the run
    by raising ``TrialPruned`` from inside the validation loop (Lightning's exception path: no
    epoch-end checkpoint, no end-of-run report), and under DDP it expects the trial to be handed
    from the process that asked it to the others, where our trials are asked by the sweeper and
    each process opens the study itself.
    """

    def __init__(self, trial: StudyTrial | None, monitor: str) -> None:
        self.trial, self.monitor = trial, monitor
        self.pruned_at: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        epoch = trainer.current_epoch
        prune = False
        if self.trial is not None:
            value = trainer.callback_metrics.get(self.monitor)
            if value is None:
                log.warning("%s was not logged at epoch %d: not reported", self.monitor, epoch)
            else:
                prune = self.trial.report(float(value), epoch)
        if trainer.strategy.broadcast(prune, src=0):
            self.pruned_at = epoch
            trainer.should_stop = True
            if trainer.is_global_zero:
                log.info("trial pruned after epoch %d: %s is not promising", epoch, self.monitor)

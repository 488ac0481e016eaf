"""A run's checkpoints: the latest state, periodic keeps and the best epoch; never a broken file."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from unpaired.errors import CheckpointError, NonFiniteError
from unpaired.utils.checkpoint import save_generators
from unpaired.utils.disk import (
    atomic_copy,
    ensure_free_space,
    ensure_writable,
    remove_partial_files,
)
from unpaired.utils.rng import restore_rng_states, rng_states

log = logging.getLogger(__name__)

#: Stops that every process of a multi-process run raises together, so all of them can join the
#: collective save; after any other exception only a single-process run saves.
_COORDINATED_STOPS = (SIGTERMException, NonFiniteError)


class Checkpointing(Checkpoint):
    """Writes a run's checkpoints into ``dirpath``.

    - ``last.ckpt``: every ``every_n_batches`` training batches, at the end of every epoch, and
      when training stops on an exception (a preemption signal, non-finite steps, Ctrl-C, a
      crash), unless what failed was a checkpoint write. ``resume=auto`` continues from it.
    - ``epoch<NNNN>.ckpt``: kept at the end of every ``keep_every_n_epochs``-th epoch
      (``NNNN``: the epoch's index, as in ``samples/val_epochNNNN.png``); 0 keeps none.
    - ``best.ckpt``: the end of the epoch whose validation ``monitor`` value was best (``mode``
      ``min`` or ``max``); nothing when the metric is not logged (a data set without ground
      truth, say). A non-finite value never counts as best. Each epoch with a ``monitor`` value
      logs it as ``last/<monitor>``, with the best so far and its epoch as ``best/<monitor>``
      and ``best/<monitor>_epoch`` (``/`` in the name written ``_``).
    - ``<name>.generators.safetensors`` beside each of them when ``safetensors`` is true: the
      generator weights alone, loadable without pickle.

    Every file is replaced atomically (by :class:`unpaired.utils.checkpoint.SafeCheckpointIO`
    and :func:`unpaired.utils.disk.atomic_copy`), and a state whose weights are not all finite
    is never written, so ``last.ckpt`` always holds the last good state. Checkpoints also carry
    the RNG states (restored on resume) and the wandb run id (continued by ``resume=auto``).
    The folder is checked at start-up: writable, with room for a checkpoint.
    """

    def __init__(
        self,
        dirpath: str | Path,
        every_n_batches: int = 1000,
        keep_every_n_epochs: int = 0,
        monitor: str | None = None,
        mode: str = "min",
        safetensors: bool = True,
    ) -> None:
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.dirpath = Path(dirpath)
        self.every_n_batches = every_n_batches
        self.keep_every_n_epochs = keep_every_n_epochs
        self.monitor = monitor
        self.mode = mode
        self.safetensors = safetensors
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self._epoch_score: float | None = None
        self._training = False

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.ckpt"

    @property
    def best_path(self) -> Path:
        return self.dirpath / "best.ckpt"

    # ------------------------------------------------------------------------ start-up checks
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit" or not trainer.is_global_zero:
            return
        ensure_writable(self.dirpath)
        remove_partial_files(self.dirpath)
        if self.last_path.is_file():
            needed = self.last_path.stat().st_size
        else:  # the weights, and about as much again for each of Adam's two moments
            needed = 3 * sum(t.numel() * t.element_size() for t in pl_module.state_dict().values())
        ensure_free_space(self.dirpath, needed)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._training = True

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._training = False

    # ------------------------------------------------------------------------------- triggers
    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        batches = trainer.fit_loop.total_batch_idx + 1
        last_of_epoch = batch_idx + 1 == trainer.num_training_batches  # the epoch end saves
        if self.every_n_batches > 0 and batches % self.every_n_batches == 0 and not last_of_epoch:
            self._save(trainer, self.last_path)

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning keeps a metric in callback_metrics until it is logged again: one measured
        # every few epochs (ValidationFID) must not count again in the epochs between.
        if self.monitor is not None:
            trainer.callback_metrics.pop(self.monitor, None)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.monitor is None or trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        self._epoch_score = None if value is None else float(value)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Saved here, like Lightning's ModelCheckpoint: after validation and the epoch's scheduler
        # step, and a resume starts the next epoch exactly where an uninterrupted run would.
        score, self._epoch_score = self._epoch_score, None
        improved = self._improves(score) and _weights_finite(pl_module)
        if improved:
            self.best_score, self.best_epoch = score, trainer.current_epoch
        if score is not None:
            self._log_scores(trainer, score)
        if not self._save(trainer, self.last_path) or not trainer.is_global_zero:
            return
        epoch = trainer.current_epoch
        if self.keep_every_n_epochs > 0 and (epoch + 1) % self.keep_every_n_epochs == 0:
            self._publish(self.dirpath / f"epoch{epoch:04d}.ckpt")
        if improved:
            log.info("%s = %.4g is the best so far: %s", self.monitor, score, self.best_path)
            self._publish(self.best_path)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not self._training or isinstance(exception, CheckpointError):
            return
        if trainer.world_size > 1 and not isinstance(exception, _COORDINATED_STOPS):
            return
        log.warning("training stopped (%s): saving %s", type(exception).__name__, self.last_path)
        try:
            self._save(trainer, self.last_path)
        except CheckpointError as error:  # must not hide the exception that stopped the run
            log.error("%s", error)

    # ------------------------------------------------------------------------- what is saved
    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint["rng_states"] = rng_states()
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                checkpoint["wandb_run_id"] = logger.version

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if "rng_states" in checkpoint:
            restore_rng_states(checkpoint["rng_states"])

    def state_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if state_dict.get("monitor") == self.monitor:
            self.best_score = state_dict.get("best_score")
            self.best_epoch = state_dict.get("best_epoch")

    # ------------------------------------------------------------------------------- helpers
    def _log_scores(self, trainer: L.Trainer, score: float) -> None:
        """Log the monitored value of this epoch (``last/<monitor>``) and the best so far with
        its epoch (``best/<monitor>``, ``best/<monitor>_epoch``): papers often report the best
        value seen in training, and the last one says whether training ended near it."""
        name = str(self.monitor).replace("/", "_")
        metrics = {f"last/{name}": score}
        if self.best_score is not None and self.best_epoch is not None:
            metrics.update({f"best/{name}": self.best_score, f"best/{name}_epoch": self.best_epoch})
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)

    def _improves(self, score: float | None) -> bool:
        if score is None or not math.isfinite(score):
            return False
        if self.best_score is None:
            return True
        return score < self.best_score if self.mode == "min" else score > self.best_score

    def _save(self, trainer: L.Trainer, path: Path) -> bool:
        """Write the current state to ``path``; False (and the old file kept) if its weights
        are not all finite, or in a ``fast_dev_run``."""
        if trainer.fast_dev_run:
            return False
        module = trainer.lightning_module
        if not _weights_finite(module):
            log.error("the weights hold non-finite values: %s is left as it was", path)
            return False
        trainer.save_checkpoint(path, weights_only=False)
        if self.safetensors and trainer.is_global_zero:
            save_generators(
                module,
                _generators_path(path),
                epoch=str(trainer.current_epoch),
                global_step=str(trainer.global_step),
            )
        return True

    def _publish(self, target: Path) -> None:
        """Give ``target`` (and its safetensors sibling) the content just saved as last.ckpt."""
        atomic_copy(self.last_path, target)
        if self.safetensors:
            atomic_copy(_generators_path(self.last_path), _generators_path(target))


def _generators_path(checkpoint: Path) -> Path:
    return checkpoint.with_suffix(".generators.safetensors")


def _weights_finite(module: torch.nn.Module) -> bool:
    tensors = [t for t in module.state_dict().values() if t.is_floating_point()]
    return bool(torch.stack([t.isfinite().all() for t in tensors]).all()) if tensors else True

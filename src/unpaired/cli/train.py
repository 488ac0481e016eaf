"""``unpaired-train``: compose the config, build data, model, loggers and callbacks, and fit.

Resuming: ``resume=auto`` or ``ckpt_path=...`` restore a checkpoint's whole training state. The
run folder (the continued run's own, or a new one) is chosen while Hydra composes the config, by
the resolvers of :mod:`unpaired.utils.runs`; here the checkpoint is found, checked against the
configured model, and its wandb run continued.

Returns the value of ``optimized_metric`` to Hydra, for a sweeper (Optuna) to optimise. A run that
is a trial of an Optuna study (``trial.number`` set by the sweeper) also reports to the study
(:mod:`unpaired.sweeps.trial`).
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import hydra
import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback, ProgressBar
from lightning.pytorch.strategies.launchers import _SubprocessScriptLauncher
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from unpaired.callbacks.preemption import REQUEUE_EXIT_CODE
from unpaired.callbacks.trial_pruning import TrialPruning
from unpaired.cli.common import (
    in_multirun,
    instantiate_collection,
    null_group_overrides,
    run_reporting_user_errors,
)
from unpaired.cli.run_report import ending_block, start_block
from unpaired.cli.screen import quiet_third_parties
from unpaired.config import config_dir, register_resolvers
from unpaired.errors import ConfigError, TrainingError
from unpaired.sweeps.trial import is_trial, reporting_trial
from unpaired.utils.checkpoint import check_compatible, load_checkpoint
from unpaired.utils.runs import resumable_checkpoint

log = logging.getLogger(__name__)


def train(cfg: DictConfig, extra_callbacks: Sequence[Callback] = ()) -> dict[str, float]:
    """Train as ``cfg`` says, with ``extra_callbacks`` beside the configured ones; returns the
    final metrics (``trainer.callback_metrics``)."""
    OmegaConf.resolve(cfg)  # the module's hyperparameters and the checkpoints store plain values
    if cfg.get("print_config"):
        log.info("config:\n%s", OmegaConf.to_yaml(cfg))
    check_trainer_options(cfg.trainer)
    run_dir = Path(cfg.paths.output_dir).absolute()
    resume_from = checkpoint_to_resume(cfg, run_dir)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)

    datamodule: L.LightningDataModule = instantiate(cfg.data)
    model: L.LightningModule = instantiate(cfg.model, _recursive_=False, _convert_="all")
    if resume_from is not None:
        prepare_resume(cfg, model, resume_from, continues_run=run_dir in resume_from.parents)
    callbacks = [*instantiate_collection(cfg.get("callbacks")), *extra_callbacks]
    if not cfg.trainer.get("enable_progress_bar", True):  # Lightning refuses a bar then
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBar)]
    loggers = instantiate_collection(cfg.get("logger"))
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    if in_multirun() and isinstance(trainer.strategy.launcher, _SubprocessScriptLauncher):
        raise ConfigError(
            "this trainer starts its own DDP processes, which a multirun (-m) cannot host: "
            "Lightning would start each of them on the whole sweep again. Sweep DDP runs "
            "through SLURM (hydra/launcher=slurm), which starts the processes itself, or run "
            "them one at a time without -m."
        )
    if trainer.is_global_zero:
        log.info("%s", start_block(cfg, model, trainer))
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    except SIGTERMException as stop:
        log.warning(
            "stopped by a signal: continue with the same command plus resume=auto (exit status "
            "%d asks a scheduler to requeue)",
            REQUEUE_EXIT_CODE,
        )
        raise SystemExit(REQUEUE_EXIT_CODE) from stop
    if trainer.is_global_zero:
        log.info("%s", ending_block(cfg, trainer, model, datamodule))
    return {name: float(value) for name, value in trainer.callback_metrics.items()}


def checkpoint_to_resume(cfg: DictConfig, run_dir: Path) -> Path | None:
    """The checkpoint this training starts from: ``ckpt_path``; with ``resume=auto``, the newest
    resumable checkpoint of ``run_dir`` (already the continued run's folder, or a new, empty one
    when there was nothing to continue); else None."""
    resume, ckpt_path = cfg.get("resume"), cfg.get("ckpt_path")
    if resume not in (None, "auto"):
        raise ConfigError(f"resume must be null or auto, got {resume!r}")
    if ckpt_path is not None:
        if resume is not None:
            raise ConfigError(
                "resume=auto and ckpt_path are both set: use one of them (resume=auto finds the "
                "newest run's checkpoint itself)"
            )
        return Path(ckpt_path).expanduser().absolute()
    if resume is None:
        return None
    found = resumable_checkpoint(run_dir)
    if found is None:
        log.info("resume=auto: no run in %s to continue, starting a new one", run_dir.parent)
    return found


def prepare_resume(
    cfg: DictConfig, model: L.LightningModule, checkpoint_path: Path, continues_run: bool
) -> None:
    """Check the checkpoint against ``model`` before Lightning loads it (a clear error instead
    of a state_dict traceback); when the training continues the checkpoint's own run, point the
    wandb logger at that run's id, so that it logs into the same wandb run (``resume: allow``)."""
    checkpoint = load_checkpoint(checkpoint_path, mmap=True)  # a cheap look: tensors stay on disk
    check_compatible(checkpoint, model, checkpoint_path)
    run_id = checkpoint.get("wandb_run_id")
    wandb = (cfg.get("logger") or {}).get("wandb")
    if continues_run and run_id is not None and wandb is not None:
        wandb.id = run_id
    log.info(
        "resuming from %s (epoch %s, step %s)",
        checkpoint_path,
        checkpoint.get("epoch"),
        checkpoint.get("global_step"),
    )


#: Lightning Trainer options for automatic optimisation only, and ours that replace them.
MODEL_GRADIENT_OPTIONS = {
    "gradient_clip_val": "model.grad_clip_val",
    "gradient_clip_algorithm": "model.grad_clip_algorithm",
    "accumulate_grad_batches": "model.accumulate_grad_batches",
}


def check_trainer_options(trainer: DictConfig) -> None:
    """Refuse the Trainer's clipping and accumulation options, naming the model's.

    Raises:
        ConfigError: one of them is set (Lightning itself would refuse it, pointing nowhere).
    """
    for option, ours in MODEL_GRADIENT_OPTIONS.items():
        value = trainer.get(option)
        if value is not None and not (option == "accumulate_grad_batches" and value == 1):
            raise ConfigError(
                f"trainer.{option}={value} works only under automatic optimisation, and GANs are "
                f"optimised manually: remove it and set {ours}={value} instead."
            )


def objective(metrics: Mapping[str, float], optimized_metric: str | None) -> float | None:
    """The value of ``optimized_metric`` among a finished run's metrics, for a sweeper to
    optimise; None when no metric is named.

    Raises:
        ConfigError: the run logged no metric of that name (the message lists those it did).
        TrainingError: the value is not finite (the training diverged), so that a sweeper
            records the run as failed rather than comparing a NaN.
    """
    if optimized_metric is None:
        return None
    if optimized_metric not in metrics:
        raise ConfigError(
            f"optimized_metric={optimized_metric} was not logged by this run; it logged "
            f"{', '.join(sorted(metrics)) or 'no metrics'}."
        )
    value = metrics[optimized_metric]
    if not math.isfinite(value):
        raise TrainingError(f"{optimized_metric} is {value}: the training diverged.")
    return value


def train_for_objective(cfg: DictConfig) -> float | None:
    """Train, then return the value of ``cfg.optimized_metric`` (see :func:`objective`); a
    trial of an Optuna study reports it, or its pruning or failure, to the study. A pruned trial
    returns None."""
    with reporting_trial(cfg) as trial:
        pruning = [TrialPruning(trial, cfg.optimized_metric)] if is_trial(cfg) else []
        metrics = train(cfg, extra_callbacks=pruning)
        if pruning and pruning[0].pruned_at is not None:
            if trial is not None:
                trial.prune()
            return None
        value = objective(metrics, cfg.get("optimized_metric"))
        if trial is not None:
            trial.complete(value)
    if value is not None:
        log.info("objective %s = %r", cfg.optimized_metric, value)
    return value


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def _main(cfg: DictConfig) -> float | None:
    return run_reporting_user_errors(train_for_objective, cfg)


def main() -> None:
    quiet_third_parties()
    register_resolvers()
    sys.argv[1:] = null_group_overrides(sys.argv[1:], config_dir())
    _main()


if __name__ == "__main__":
    main()

"""``unpaired-train``: compose the config, build data, model, loggers and callbacks, and fit.

Resuming: ``resume=auto`` or ``ckpt_path=...`` restore a checkpoint's whole training state. The
run folder (the continued run's own, or a new one) is chosen while Hydra composes the config, by
the resolvers of :mod:`unpaired.utils.runs`; here the checkpoint is found, checked against the
configured model, and its wandb run continued.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from unpaired.callbacks.preemption import REQUEUE_EXIT_CODE
from unpaired.cli.common import (
    instantiate_collection,
    null_group_overrides,
    run_reporting_user_errors,
)
from unpaired.config import config_dir, register_resolvers
from unpaired.errors import ConfigError
from unpaired.utils.checkpoint import check_compatible, load_checkpoint
from unpaired.utils.runs import resumable_checkpoint

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train as ``cfg`` says; returns the final metrics (``trainer.callback_metrics``)."""
    OmegaConf.resolve(cfg)  # the module's hyperparameters and the checkpoints store plain values
    log.info("config:\n%s", OmegaConf.to_yaml(cfg))
    run_dir = Path(cfg.paths.output_dir).absolute()
    resume_from = checkpoint_to_resume(cfg, run_dir)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    datamodule: L.LightningDataModule = instantiate(cfg.data)
    model: L.LightningModule = instantiate(cfg.model, _recursive_=False, _convert_="all")
    if resume_from is not None:
        prepare_resume(cfg, model, resume_from, continues_run=run_dir in resume_from.parents)
    callbacks = instantiate_collection(cfg.get("callbacks"))
    loggers = instantiate_collection(cfg.get("logger"))
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
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
    log.info("run folder: %s", cfg.paths.output_dir)
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


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def _main(cfg: DictConfig) -> Any:
    return run_reporting_user_errors(train, cfg)


def main() -> None:
    register_resolvers()
    sys.argv[1:] = null_group_overrides(sys.argv[1:], config_dir())
    _main()


if __name__ == "__main__":
    main()

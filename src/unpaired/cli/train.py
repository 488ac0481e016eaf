"""``unpaired-train``: compose the config, build data, model, loggers and callbacks, and fit.

Returns the value of ``optimized_metric`` to Hydra, for a sweeper (Optuna) to optimise.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping

import hydra
import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.strategies.launchers import _SubprocessScriptLauncher
from omegaconf import DictConfig, OmegaConf

from unpaired.cli.common import (
    in_multirun,
    instantiate_collection,
    null_group_overrides,
    run_reporting_user_errors,
)
from unpaired.config import config_dir, register_resolvers
from unpaired.errors import ConfigError, TrainingError

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train as ``cfg`` says; returns the final metrics (``trainer.callback_metrics``)."""
    OmegaConf.resolve(cfg)  # the module's hyperparameters and the checkpoints store plain values
    log.info("config:\n%s", OmegaConf.to_yaml(cfg))
    check_trainer_options(cfg.trainer)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    datamodule: L.LightningDataModule = instantiate(cfg.data)
    model: L.LightningModule = instantiate(cfg.model, _recursive_=False, _convert_="all")
    callbacks = instantiate_collection(cfg.get("callbacks"))
    loggers = instantiate_collection(cfg.get("logger"))
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    if in_multirun() and isinstance(trainer.strategy.launcher, _SubprocessScriptLauncher):
        raise ConfigError(
            "this trainer starts its own DDP processes, which a multirun (-m) cannot host: "
            "Lightning would start each of them on the whole sweep again. Sweep DDP runs "
            "through SLURM (hydra/launcher=slurm), which starts the processes itself, or run "
            "them one at a time without -m."
        )
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    log.info("run folder: %s", cfg.paths.output_dir)
    return {name: float(value) for name, value in trainer.callback_metrics.items()}


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
    """Train, then return the value of ``cfg.optimized_metric`` (see :func:`objective`)."""
    value = objective(train(cfg), cfg.get("optimized_metric"))
    if value is not None:
        log.info("objective %s = %r", cfg.optimized_metric, value)
    return value


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def _main(cfg: DictConfig) -> float | None:
    return run_reporting_user_errors(train_for_objective, cfg)


def main() -> None:
    register_resolvers()
    sys.argv[1:] = null_group_overrides(sys.argv[1:], config_dir())
    _main()


if __name__ == "__main__":
    main()

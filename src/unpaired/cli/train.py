"""``unpaired-train``: compose the config, build data, model, loggers and callbacks, and fit."""

from __future__ import annotations

import logging
import sys
from typing import Any

import hydra
import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from unpaired.cli.common import (
    instantiate_collection,
    null_group_overrides,
    run_reporting_user_errors,
)
from unpaired.config import config_dir, register_resolvers

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train as ``cfg`` says; returns the final metrics (``trainer.callback_metrics``)."""
    OmegaConf.resolve(cfg)  # the module's hyperparameters and the checkpoints store plain values
    log.info("config:\n%s", OmegaConf.to_yaml(cfg))
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    datamodule: L.LightningDataModule = instantiate(cfg.data)
    model: L.LightningModule = instantiate(cfg.model, _recursive_=False, _convert_="all")
    callbacks = instantiate_collection(cfg.get("callbacks"))
    loggers = instantiate_collection(cfg.get("logger"))
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    log.info("run folder: %s", cfg.paths.output_dir)
    return {name: float(value) for name, value in trainer.callback_metrics.items()}


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def _main(cfg: DictConfig) -> Any:
    return run_reporting_user_errors(train, cfg)


def main() -> None:
    register_resolvers()
    sys.argv[1:] = null_group_overrides(sys.argv[1:], config_dir())
    _main()


if __name__ == "__main__":
    main()

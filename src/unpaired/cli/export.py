"""``unpaired-export``: write one generator as TorchScript, ONNX and safetensors.

    unpaired-export ckpt=run/checkpoints/last.ckpt output=exported/ direction=AtoB

See :mod:`unpaired.inference.export` for what each file holds; conf/export.yaml for the options.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.screen import quiet_third_parties
from unpaired.config import config_dir
from unpaired.inference.export import export

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> list[Path]:
    """Export as ``cfg`` says (conf/export.yaml); returns the files written."""
    files = export(
        Path(cfg.ckpt).expanduser(),
        Path(cfg.output).expanduser(),
        formats=list(cfg.formats) if cfg.formats is not None else None,
        direction=cfg.direction,
        generator_overrides=OmegaConf.to_container(cfg.generator),
        example_size=int(cfg.example_size),
        weights=cfg.weights,
    )
    for path in files:
        log.info("wrote %s", path)
    return files


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="export")
def _main(cfg: DictConfig) -> Any:
    return run_reporting_user_errors(run, cfg)


def main() -> None:
    quiet_third_parties()
    _main()


if __name__ == "__main__":
    main()

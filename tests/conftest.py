"""Fixtures shared by the whole suite: composing the Hydra config and running the train CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from unpaired.cli.common import null_group_overrides
from unpaired.config import config_dir, register_resolvers

SRC_DIR = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def compose_train() -> Callable[..., DictConfig]:
    """Compose conf/train.yaml with overrides, as the CLI would (without running anything)."""
    register_resolvers()

    def _compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
        overrides = null_group_overrides(overrides, config_dir())
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose(config_name, overrides=overrides, return_hydra_config=True)

    return _compose


@pytest.fixture
def tiny_overrides(tmp_path: Path) -> list[str]:
    """A CycleGAN run small enough for a test: 32x32 synthetic images, 8 per domain, tiny nets,
    one epoch, CSV logging, everything inside ``tmp_path``."""
    root = tmp_path
    return [
        f"paths.data_dir={root / 'data'}",
        f"paths.experiments_dir={root / 'experiments'}",
        "data.image_size=32",
        "data.load_size=32",
        "data.crop_size=32",
        "data.n_train=8",
        "data.n_test=4",
        "data.num_workers=0",
        "model.generator.ngf=8",
        "model.generator.n_blocks=1",
        "model.discriminator.ndf=8",
        "model.discriminator.n_layers=2",
        "model.scheduler.n_epochs=1",
        "model.scheduler.n_epochs_decay=0",
        "logger=csv",
        "trainer.accelerator=cpu",
        "trainer.log_every_n_steps=1",
    ]


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m unpaired.cli.<tool> args...`` in a fresh process, as a user would."""

    def _run(
        tool: str, args: Sequence[str], cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(SRC_DIR), "WANDB_SILENT": "true"}
        return subprocess.run(
            [sys.executable, "-m", f"unpaired.cli.{tool}", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return _run

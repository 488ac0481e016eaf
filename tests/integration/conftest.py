"""Running the train entry point with the callbacks of probes.py available to it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"

TrainWithProbes = Callable[[Sequence[str], Path], subprocess.CompletedProcess[str]]


@pytest.fixture
def train_with_probes() -> TrainWithProbes:
    """``python -m unpaired.cli.train overrides...`` in a fresh process, run in ``cwd``, with
    ``probes`` importable (``+callbacks.x._target_=probes.SaveParametersOfEveryRank``)."""

    def run(overrides: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}", "WANDB_SILENT": "true"}
        return subprocess.run(
            [sys.executable, "-m", "unpaired.cli.train", *overrides],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    return run


@pytest.fixture
def save_parameters() -> Callable[[Path], list[str]]:
    """Overrides adding :class:`probes.SaveParametersOfEveryRank`, writing into ``folder``."""

    def overrides(folder: Path) -> list[str]:
        return [
            "+callbacks.parameters._target_=probes.SaveParametersOfEveryRank",
            f"+callbacks.parameters.dirpath={folder}",
        ]

    return overrides

"""Whole runs of ``unpaired-train`` as subprocesses, on the tiny synthetic set."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
NAME = "tiny"
TINY = [
    f"name={NAME}",
    "data.n_train=4",
    "data.n_test=2",
    "data.image_size=32",
    "data.load_size=32",
    "data.crop_size=32",
    "data.num_workers=0",
    "model.generator.ngf=8",
    "model.generator.n_blocks=1",
    "model.discriminator.ndf=8",
    "trainer.enable_model_summary=false",
    "+trainer.enable_progress_bar=false",
    "trainer.log_every_n_steps=1",
]


class TrainCLI:
    """Runs ``python -m unpaired.cli.train`` on the tiny set, with runs under ``experiments``."""

    def __init__(self, root: Path, data: Path) -> None:
        self.root, self.data = root, data
        self.experiments = root / "experiments"
        self.env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
        self._logs = 0

    def command(self, overrides: tuple[str, ...]) -> list[str]:
        paths = [f"paths.experiments_dir={self.experiments}", f"data.root={self.data}"]
        return [sys.executable, "-m", "unpaired.cli.train", *paths, *TINY, *overrides]

    def start(self, *overrides: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a run in the background; its output goes to ``self.log_of(process)``."""
        self._logs += 1
        log = self.root / f"run{self._logs}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                self.command(overrides),
                env={**self.env, **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        process.log = log  # type: ignore[attr-defined]
        return process

    def run(self, *overrides: str, timeout: float = 300) -> tuple[int, str]:
        """Run to the end; the exit status and the output."""
        process = self.start(*overrides)
        try:
            status = process.wait(timeout=timeout)
        finally:
            process.kill()
        return status, process.log.read_text()  # type: ignore[attr-defined]

    def runs(self, name: str = NAME) -> list[Path]:
        return sorted(path for path in (self.experiments / name).iterdir() if path.is_dir())

    def wait_for(self, pattern: str, process: subprocess.Popen, timeout: float = 120) -> Path:
        """The first file under ``experiments`` matching ``pattern``, once it exists."""
        deadline = time.monotonic() + timeout
        while not (found := sorted(self.experiments.glob(pattern))):
            if process.poll() is not None:
                log = process.log.read_text()  # type: ignore[attr-defined]
                raise AssertionError(f"run ended ({process.returncode}) before {pattern}:\n{log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern} after {timeout} s")
            time.sleep(0.02)
        return found[0]


@pytest.fixture
def train_cli(tmp_path: Path, synthetic_root: Path) -> TrainCLI:
    return TrainCLI(tmp_path, synthetic_root)

"""Whole runs of ``unpaired-train`` as subprocesses: on the tiny synthetic set (``train_cli``), or
with the callbacks of probes.py available to them (``train_with_probes``); and whether a trained
model follows the scene it translates (``scene_errors``)."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torchvision.io import ImageReadMode, read_image

from unpaired.evaluation.load import load_module
from unpaired.metrics.ground_truth import per_image_errors

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
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


@dataclass
class Run:
    """A training started in the background, its output going to ``log``."""

    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text()


class TrainCLI:
    """Runs ``python -m unpaired.cli.train`` on the tiny set, with runs under ``experiments``."""

    def __init__(self, root: Path, data: Path) -> None:
        self.root, self.data = root, data
        self.experiments = root / "experiments"
        # probes.py importable: +callbacks.<name>._target_=probes.<Class>
        pythonpath = f"{SRC}{os.pathsep}{HERE}"
        self.env = {**os.environ, "PYTHONPATH": pythonpath, "OMP_NUM_THREADS": "1"}
        self.started: list[Run] = []

    def command(self, overrides: tuple[str, ...]) -> list[str]:
        paths = [f"paths.experiments_dir={self.experiments}", f"data.root={self.data}"]
        return [sys.executable, "-m", "unpaired.cli.train", *paths, *TINY, *overrides]

    def start(self, *overrides: str, env: dict[str, str] | None = None) -> Run:
        log = self.root / f"run{len(self.started)}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                self.command(overrides),
                env={**self.env, **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append(Run(process, log))
        return self.started[-1]

    def run(self, *overrides: str, timeout: float = 300) -> tuple[int, str]:
        """Run to the end; the exit status and the output."""
        run = self.start(*overrides)
        return run.process.wait(timeout=timeout), run.output()

    def runs(self, name: str = NAME) -> list[Path]:
        return sorted(path for path in (self.experiments / name).iterdir() if path.is_dir())

    def wait_for(self, pattern: str, run: Run, timeout: float = 120) -> Path:
        """The first file under ``experiments`` matching ``pattern``, once it exists."""
        deadline = time.monotonic() + timeout
        while not (found := sorted(self.experiments.glob(pattern))):
            if run.process.poll() is not None:
                status = run.process.returncode
                raise AssertionError(f"run ended ({status}) before {pattern}:\n{run.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern} after {timeout} s")
            time.sleep(0.02)
        return found[0]


@pytest.fixture
def train_cli(tmp_path: Path, synthetic_root: Path) -> Iterator[TrainCLI]:
    cli = TrainCLI(tmp_path, synthetic_root)
    yield cli
    for run in cli.started:  # a failed test must not leave a training behind
        run.process.kill()
        run.process.wait()


@pytest.fixture
def train_with_probes() -> Callable[[Sequence[str], Path], subprocess.CompletedProcess[str]]:
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


def _synthetic_test_images(folder: Path) -> torch.Tensor:
    """The PNG images of ``folder``, sorted by name, as one batch in [-1, 1]."""
    images = [read_image(str(path), ImageReadMode.RGB) for path in sorted(folder.glob("*.png"))]
    return torch.stack(images).float() / 127.5 - 1


def _scenes_and_truths(data_root: Path, translation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The test images of the synthetic set at ``data_root`` that ``translation`` (``AtoB`` or
    ``BtoA``) starts from, and their true translations, in the same order."""
    if (data_root / "test").is_dir():  # the paired layout: A | B side by side
        pairs = _synthetic_test_images(data_root / "test")
        a, b = pairs.chunk(2, dim=3)
        return (a, b) if translation == "AtoB" else (b, a)
    source = translation[0]
    return (
        _synthetic_test_images(data_root / f"test{source}"),
        _synthetic_test_images(data_root / f"test{source}_true"),
    )


@pytest.fixture
def scene_errors() -> Callable[[Path, Path, str], tuple[float, float]]:
    """``scene_errors(checkpoint, data_root, translation)``: the mean L1 (in the units of
    ``ground_truth.json``) of the trained model's translations of the synthetic test scenes
    against their own true translations, and against the true translations of the other scenes.

    A generator that ignores its input (it has learnt the target domain's colours and
    background, not the scene) scores the same on both, and on this set it can still lower the
    error against the truth a good deal: only the first figure clearly below the second shows a
    translation that follows its input."""

    def errors(checkpoint: Path, data_root: Path, translation: str) -> tuple[float, float]:
        module, _ = load_module(checkpoint, weights="raw")
        scenes, truths = _scenes_and_truths(data_root, translation)
        with torch.no_grad():
            translated = module.translate(scenes, translation)
        own = per_image_errors(translated, truths)["L1"].mean().item()
        others = [
            per_image_errors(translated, truths.roll(shift, dims=0))["L1"].mean().item()
            for shift in range(1, len(truths))
        ]
        return own, sum(others) / len(others)

    return errors

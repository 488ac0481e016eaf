"""CUT, FastCUT and pix2pix through the Hydra entry point, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC_DIR = Path(__file__).resolve().parents[2] / "src"


def train(cwd: Path, *overrides: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m unpaired.cli.train overrides...`` in ``cwd`` (data and runs land there).

    One intra-op thread: the networks here are tiny, and on a shared, busy 2-core machine
    several threads per process only wait on each other.
    """
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC_DIR),
        "OMP_NUM_THREADS": "1",
        "WANDB_SILENT": "true",
    }
    return subprocess.run(
        [sys.executable, "-m", "unpaired.cli.train", *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_folder(cwd: Path, name: str) -> Path:
    (folder,) = (cwd / "experiments" / name).iterdir()
    return folder


def ground_truth(folder: Path) -> dict[str, dict[str, float]]:
    return json.loads((folder / "ground_truth.json").read_text())


def size(pixels: int) -> list[str]:
    return [f"data.image_size={pixels}", f"data.load_size={pixels}", f"data.crop_size={pixels}"]


COMMON = ["logger=csv", "trainer.accelerator=cpu", "data.num_workers=0"]

FAST_DEV_RUNS = {
    # the paper's networks (ResNet-9 anti-aliased, 70x70 PatchGAN), on 32x32 synthetic images
    "cut": ["model=cut", *size(32)],
    "fastcut": ["model=fastcut", *size(32)],
    # U-Net 256 needs 256x256 inputs: the same U-Net with 5 levels for 32x32
    "pix2pix": [
        "model=pix2pix",
        "data=synthetic_aligned",
        *size(32),
        "model.generator.num_downs=5",
    ],
}


@pytest.mark.parametrize("method", sorted(FAST_DEV_RUNS))
def test_fast_dev_run(tmp_path: Path, method: str) -> None:
    overrides = [*FAST_DEV_RUNS[method], *COMMON, "debug=fast_dev_run", "data.n_train=4"]
    result = train(tmp_path, *overrides, "data.n_test=2", f"name={method}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = run_folder(tmp_path, method)
    config = (folder / ".hydra" / "config.yaml").read_text()
    assert {"cut": "unpaired.models.CUT", "fastcut": "unpaired.models.CUT"}.get(
        method, "unpaired.models.Pix2Pix"
    ) in config
    assert set(ground_truth(folder)["end"]) == {"epoch", "L1_AB", "PSNR_AB"}  # A→B only
    assert (folder / "samples").is_dir()


def test_missing_facades_stops_at_once_with_the_download_address(tmp_path: Path) -> None:
    result = train(tmp_path, "experiment=pix2pix/facades", *COMMON)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz" in output
    assert "Traceback" not in output


# Short trainings with the paper's losses, weights, learning rates and update order, on small
# synthetic images with small networks: the error against the true translation must fall.
LEARNING_RUNS = {
    # 16x16 images, 5 residual blocks so that layers 12 and 16 stay residual blocks 1 and 5
    "cut": ["model=cut", *size(16), "model.scheduler.n_epochs=1"],
    "fastcut": ["model=fastcut", *size(16), "model.scheduler.n_epochs=3"],
    "pix2pix": [
        "model=pix2pix",
        "data=synthetic_aligned",
        *size(32),
        "model.generator.num_downs=5",
        "model.generator.ngf=8",
        "model.scheduler.n_epochs=1",
    ],
}
SMALL_CUT_NETS = [
    "model.generator.ngf=16",
    "model.generator.n_blocks=5",
    "model.discriminator.ndf=16",
    "model.discriminator.n_layers=2",
]


@pytest.mark.parametrize("method", sorted(LEARNING_RUNS))
def test_a_short_run_learns_to_translate_the_scene(
    tmp_path: Path, method: str, scene_errors
) -> None:
    nets = SMALL_CUT_NETS if method != "pix2pix" else ["model.discriminator.ndf=8"]
    overrides = [
        *LEARNING_RUNS[method],
        *nets,
        *COMMON,
        "model.discriminator.n_layers=2",
        "model.scheduler.n_epochs_decay=0",
        "data.n_train=96",
        "data.n_test=16",
        "callbacks.image_grid=null",
        f"name={method}",
    ]
    result = train(tmp_path, *overrides)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = run_folder(tmp_path, method)
    report = ground_truth(folder)
    start, end = report["start"]["L1_AB"], report["end"]["L1_AB"]
    assert end < 0.9 * start, report
    data = tmp_path / "data" / ("synthetic_aligned" if method == "pix2pix" else "synthetic")
    own, others = scene_errors(folder / "checkpoints" / "last.ckpt", data, "AtoB")
    if method == "pix2pix":
        assert own < 0.9 * others, (own, others)
    else:
        # Runs this short teach CUT the target's colours, not yet the scene (own/others measured
        # 1.08-1.19 here, and still 1.1 after 8 epochs): its steps are checked against the
        # authors' (test_golden_training.py); here, that its translation depends on the scene at
        # all, which a generator that ignores its input (exactly 1) fails
        assert abs(own - others) > 0.05 * others, (own, others)

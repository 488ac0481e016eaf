"""A model small enough for a benchmark's whole run to take seconds."""

from pathlib import Path

import pytest

#: Sizes of the timing runs: one warm-up step, two short windows, one thread.
QUICK = ["--warmup", "1", "--windows", "2", "--window-seconds", "0.01", "--threads", "1"]

#: A tiny CycleGAN on the CPU.
TINY_MODEL = [
    "model.generator.ngf=4",
    "model.generator.n_blocks=1",
    "model.discriminator.ndf=4",
    "model.discriminator.n_layers=1",
    "trainer.accelerator=cpu",
]


@pytest.fixture
def tiny_model(tmp_path: Path) -> list[str]:
    """Overrides for :data:`TINY_MODEL` on tiny synthetic images generated inside ``tmp_path``."""
    return [
        *TINY_MODEL,
        f"paths.data_dir={tmp_path / 'data'}",
        "data.image_size=32",
        "data.load_size=32",
        "data.crop_size=32",
        "data.n_train=4",
        "data.n_test=2",
        "data.num_workers=0",
    ]

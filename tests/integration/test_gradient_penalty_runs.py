"""``model.gan_mode=wgangp`` through training and validation, for every method that offers it:
the gradient penalty needs gradients, and Lightning validates without them (inference mode)."""

import csv
import math
from pathlib import Path

import pytest


def size(pixels: int) -> list[str]:
    return [f"data.image_size={pixels}", f"data.load_size={pixels}", f"data.crop_size={pixels}"]


TINY_NETS = {
    "cyclegan": [
        "model=cyclegan",
        *size(32),
        "model.generator.ngf=8",
        "model.generator.n_blocks=1",
        "model.discriminator.ndf=8",
        "model.discriminator.n_layers=2",
    ],
    # 5 residual blocks: PatchNCE reads layer 16, the fifth
    "cut": [
        "model=cut",
        *size(32),
        "model.generator.ngf=8",
        "model.generator.n_blocks=5",
        "model.discriminator.ndf=8",
        "model.discriminator.n_layers=2",
    ],
    "pix2pix": [
        "model=pix2pix",
        "data=synthetic_aligned",
        *size(32),
        "model.generator.num_downs=5",
        "model.generator.ngf=8",
        "model.discriminator.ndf=8",
        "model.discriminator.n_layers=2",
    ],
}


def validation_metrics(run: Path) -> dict[str, float]:
    with open(run / "csv" / "version_0" / "metrics.csv") as file:
        rows = list(csv.DictReader(file))
    return {
        name: float(value)
        for row in rows
        for name, value in row.items()
        if name.startswith("val/") and value
    }


@pytest.mark.parametrize("method", sorted(TINY_NETS))
def test_wgangp_runs_through_validation(train_with_probes, tmp_path: Path, method: str) -> None:
    result = train_with_probes(
        [
            *TINY_NETS[method],
            "model.gan_mode=wgangp",
            "model.scheduler.n_epochs=1",
            "model.scheduler.n_epochs_decay=0",
            "data.n_train=4",
            "data.n_test=2",
            "data.num_workers=0",
            "trainer.accelerator=cpu",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
            "logger=csv",
            "callbacks.image_grid=null",
            f"name={method}",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [run] = (tmp_path / "experiments" / method).iterdir()
    metrics = validation_metrics(run)
    assert math.isfinite(metrics["val/D"])
    if method != "cyclegan":  # CycleGAN adds each penalty into D_A and D_B
        assert metrics["val/D_gp"] > 0

"""DCGAN and the VAE through the entry point, on one domain of the built-in synthetic set: the
presets run, their grids show samples, and the VAE learns (its validation reconstruction error
falls)."""

import csv
from pathlib import Path

import pytest
from PIL import Image

SMALL = ["data.n_train=32", "data.n_test=8", "data.num_workers=0", "logger=csv"]


def column_count(grid: Path, side: int) -> int:
    """Columns of an image grid of ``side``-pixel tiles (2 pixels of padding)."""
    return (Image.open(grid).width - 2) // (side + 2)


def logged(run: Path, name: str) -> list[float]:
    with open(run / "csv" / "version_0" / "metrics.csv") as file:
        return [float(row[name]) for row in csv.DictReader(file) if row.get(name)]


@pytest.mark.parametrize(
    ("preset", "side", "overrides", "columns"),
    [
        (
            "dcgan/synthetic",
            64,  # the authors' networks are for 64x64 images
            ["model.generator.ngf=8", "model.discriminator.ndf=8", "data.batch_size=8"],
            2,  # real | sample
        ),
        (
            "vae/synthetic",
            32,
            ["model.encoder.ch=8", "data.batch_size=8", "data.n_train=64"],
            3,  # real | reconstruction | sample
        ),
    ],
)
def test_a_preset_trains_on_one_domain_and_shows_samples(
    run_cli, tmp_path: Path, preset: str, side: int, overrides: list[str], columns: int
) -> None:
    result = run_cli(
        "train",
        [
            f"experiment={preset}",
            f"paths.data_dir={tmp_path / 'data'}",
            f"paths.experiments_dir={tmp_path / 'runs'}",
            f"data.image_size={side}",
            f"data.load_size={side}",
            f"data.crop_size={side}",
            "model.scheduler.n_epochs=6",
            *SMALL,
            *overrides,  # after SMALL: data.n_train may be set again
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (tmp_path / "runs").glob("*/*")
    grid = run / "samples" / "val_epoch0005.png"
    assert column_count(grid, side) == columns
    if preset.startswith("vae"):
        errors = logged(run, "val/recon")
        assert len(errors) == 6 and errors[-1] < 0.75 * errors[0], errors
        assert (run / "checkpoints" / "best.ckpt").is_file()  # chosen by val/recon

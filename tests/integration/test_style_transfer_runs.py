"""Johnson's fast style transfer and AdaIN through ``unpaired-train`` on the built-in synthetic set
(content = domain A; style = one domain-B image for Johnson, domain B for AdaIN), with random VGG
weights: the losses fall, checkpoints and grids are written, and a run resumes where it stopped."""

import csv
from pathlib import Path

import pytest
import torch
from PIL import Image

from unpaired.utils.checkpoint import load_checkpoint

SIDE = 32
COMMON = [
    "data.n_train=16",
    "data.n_test=4",
    f"data.image_size={SIDE}",
    f"data.load_size={SIDE}",
    f"data.crop_size={SIDE}",
    "data.num_workers=0",
    "data.batch_size=4",
    "model.vgg_weights=random",
    "logger=csv",
    "trainer.log_every_n_steps=1",
    "trainer.enable_model_summary=false",
]
PRESETS = {
    # the examples' network at a quarter of its width; 4 batches an epoch
    "johnson/synthetic": ["model.transformer.width=8", "model.transformer.n_blocks=2"],
    "adain/synthetic": ["model.max_iterations=null", "model.optimizer.lr=0.001"],
}


def logged(run: Path, name: str) -> list[float]:
    rows = []
    for metrics in sorted((run / "csv").glob("version_*/metrics.csv")):
        with open(metrics) as file:
            rows += [float(row[name]) for row in csv.DictReader(file) if row.get(name)]
    return rows


def columns(grid: Path) -> int:
    return (Image.open(grid).width - 2) // (SIDE + 2)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_style_method_trains_checkpoints_shows_grids_and_resumes(
    run_cli, tmp_path: Path, preset: str
) -> None:
    paths = [f"paths.data_dir={tmp_path / 'data'}", f"paths.experiments_dir={tmp_path / 'runs'}"]
    first = run_cli(
        "train",
        [f"experiment={preset}", *paths, *COMMON, *PRESETS[preset], "trainer.max_epochs=3"],
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr[-3000:]
    [run] = (tmp_path / "runs").glob("*/*")
    total = "train/transformer" if preset.startswith("johnson") else "train/decoder"
    losses = logged(run, total)
    assert len(losses) == 12
    assert sum(losses[-4:]) < 0.9 * sum(losses[:4]), losses  # falls
    assert logged(run, "train/style")[-1] < logged(run, "train/style")[0]
    grid = run / "samples" / "val_epoch0002.png"
    # content | style | stylised, and for AdaIN the truths the synthetic set has of A and B
    assert columns(grid) == (3 if preset.startswith("johnson") else 5)
    last = run / "checkpoints" / "last.ckpt"
    assert load_checkpoint(last)["global_step"] == 12
    if preset.startswith("adain"):  # the ground truth of A->B is measured
        assert len(logged(run, "val/gt_L1_AB")) == 3

    resumed = run_cli(
        "train",
        [f"experiment={preset}", *paths, *COMMON, *PRESETS[preset], "trainer.max_epochs=4",
         f"ckpt_path={last}"],
        cwd=tmp_path,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [run] == list((tmp_path / "runs").glob("*/*"))  # the same run folder
    checkpoint = load_checkpoint(last)
    assert checkpoint["global_step"] == 16 and checkpoint["epoch"] == 3
    assert len(logged(run, total)) == 16
    assert (run / "samples" / "val_epoch0003.png").is_file()
    vgg_keys = [k for k in checkpoint["state_dict"] if k.startswith(("encoder.", "loss_network."))]
    assert vgg_keys and all(torch.isfinite(checkpoint["state_dict"][k]).all() for k in vgg_keys)

"""StarGAN v2 through ``unpaired-train`` on the three-domain synthetic set: every translation
measured against its truth, a resumed run that ends exactly where an uninterrupted one ends
(averaged weights and the diversity weight's decay included), two DDP ranks on CPU."""

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from unpaired.utils.checkpoint import load_checkpoint

DOMAINS = ("warm", "cool", "violet")
PAIRS = [f"{s}_to_{t}" for s in DOMAINS for t in DOMAINS if s != t]


def tiny(tmp_path: Path, name: str) -> list[str]:
    """16x16 images, 4 training images per domain (12 items: 2 batches of 6 an epoch), tiny
    networks, everything under ``tmp_path``."""
    return [
        "experiment=stargan_v2/synthetic",
        f"name={name}",
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.experiments_dir={tmp_path / 'experiments'}",
        "data.image_size=16",
        "data.n_train=4",
        "data.n_test=2",
        "data.batch_size=6",
        "data.num_workers=0",
        *[f"model.{net}.dim_in=4" for net in ("generator", "style_encoder", "discriminator")],
        *[f"model.{net}.max_conv_dim=8" for net in ("generator", "style_encoder", "discriminator")],
        "model.generator.style_dim=4",
        "model.mapping_network.latent_dim=3",
        "model.mapping_network.hidden_dim=8",
        "model.ema.decay=0.5",
        "logger=csv",
        "trainer.accelerator=cpu",
        "trainer.log_every_n_steps=1",
        "trainer.deterministic=true",
        "callbacks.image_grid=null",
        "+trainer.enable_progress_bar=false",
    ]


def run_folder(tmp_path: Path, name: str) -> Path:
    (run,) = (tmp_path / "experiments" / name).iterdir()
    return run


def logged(run: Path, key: str) -> dict[int, float]:
    """``key``'s values by step, from every CSV log of the run (a resumed run adds one)."""
    values = {}
    for path in sorted(run.glob("csv/*/metrics.csv")):
        with path.open() as file:
            for row in csv.DictReader(file):
                if row.get(key):
                    values[int(row["step"])] = float(row[key])
    return values


def test_a_resumed_run_ends_with_the_weights_averages_and_diversity_weight_of_an_uninterrupted_one(
    tmp_path, train_with_probes
) -> None:
    # 4 iterations (2 epochs) with the diversity weight falling from 1 to 0 over them
    reference = train_with_probes(
        [*tiny(tmp_path, "reference"), "model.max_iterations=4", "model.ds_iter=4"], tmp_path
    )
    assert reference.returncode == 0, reference.stderr[-3000:]
    truth = json.loads((run_folder(tmp_path, "reference") / "ground_truth.json").read_text())
    for when in ("start", "end"):
        assert {f"L1_{pair}" for pair in PAIRS} <= set(truth[when])

    first = train_with_probes(
        [*tiny(tmp_path, "resumed"), "model.max_iterations=2", "model.ds_iter=4"], tmp_path
    )
    assert first.returncode == 0, first.stderr[-3000:]
    second = train_with_probes(
        [*tiny(tmp_path, "resumed"), "model.max_iterations=4", "model.ds_iter=4", "resume=auto"],
        tmp_path,
    )
    assert second.returncode == 0, second.stderr[-3000:]

    expected = load_checkpoint(run_folder(tmp_path, "reference") / "checkpoints" / "last.ckpt")
    resumed = load_checkpoint(run_folder(tmp_path, "resumed") / "checkpoints" / "last.ckpt")
    assert any(key.startswith("ema.copies.mapping_network.") for key in expected["state_dict"])
    assert expected["state_dict"].keys() == resumed["state_dict"].keys()
    for key, value in expected["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key
    weights = {
        name: logged(run_folder(tmp_path, name), "train/lambda_ds")
        for name in ("reference", "resumed")
    }
    assert sorted(weights["reference"].values()) == [0.25, 0.5, 0.75, 1.0]
    assert weights["resumed"] == weights["reference"]


@pytest.mark.slow
def test_two_ddp_ranks_hold_the_same_weights_and_averages(
    tmp_path, train_with_probes, save_parameters
) -> None:
    result = train_with_probes(
        [
            *tiny(tmp_path, "ddp"),
            "trainer=ddp_cpu",
            "data.batch_size=3",  # 2 ranks x 3 items: 2 iterations an epoch
            "model.max_iterations=2",
            *save_parameters(tmp_path / "ddp"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / "ddp" / f"rank{r}_end.pt") for r in (0, 1))
    start = torch.load(tmp_path / "ddp" / "rank0_start.pt")
    assert any(name.startswith("ema.copies.style_encoder.") for name in rank0)
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), name
    for network in ("generator", "mapping_network", "style_encoder", "discriminator"):
        moved = [(rank0[n] - start[n]).abs().max() for n in rank0 if n.startswith(f"{network}.")]
        assert max(moved) > 0, network


def celeba_hq_folders(root: Path) -> None:
    """CelebA-HQ's layout (train/ and val/, a folder per domain), three 64x64 images each."""
    generator = torch.Generator().manual_seed(0)
    for split in ("train", "val"):
        for domain in ("female", "male"):
            folder = root / "celeba_hq" / split / domain
            folder.mkdir(parents=True)
            for index in range(3):
                pixels = torch.randint(0, 256, (64, 64, 3), generator=generator, dtype=torch.uint8)
                Image.fromarray(pixels.numpy()).save(folder / f"{index}.png")


def celeba_hq(tmp_path: Path, name: str) -> list[str]:
    """The paper preset on 64x64 images (the masks enter the generator at 32 and 64 pixels),
    tiny networks, two iterations."""
    return [
        "experiment=stargan_v2/celeba_hq",
        f"name={name}",
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.experiments_dir={tmp_path / 'experiments'}",
        "data.img_size=64",
        "data.batch_size=2",
        "data.val_batch_size=2",
        "data.num_workers=0",
        "data.persistent_workers=false",
        *[f"++model.{net}.dim_in=4" for net in ("generator", "style_encoder", "discriminator")],
        *[f"model.{net}.max_conv_dim=8" for net in ("generator", "style_encoder", "discriminator")],
        "model.max_iterations=2",
        "logger=csv",
        "trainer.accelerator=cpu",
        "callbacks.image_grid=null",
        "+trainer.enable_progress_bar=false",
    ]


def test_the_celeba_hq_preset_trains_with_the_face_landmark_file_and_says_when_it_is_missing(
    tmp_path: Path, train_with_probes, monkeypatch, wing_file
) -> None:
    celeba_hq_folders(tmp_path / "data")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # an empty hub cache
    missing = train_with_probes(celeba_hq(tmp_path, "no_wing"), tmp_path)
    output = missing.stdout + missing.stderr
    assert missing.returncode != 0
    assert "wing.ckpt" in output and "model.fan_weights=/path/to/wing.ckpt" in output
    assert "Traceback" not in output

    wing, state = wing_file
    result = train_with_probes(
        [*celeba_hq(tmp_path, "celeba"), f"model.fan_weights={wing}"], tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = run_folder(tmp_path, "celeba")
    saved = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert saved["global_step"] == 2 * 6  # two iterations of 6 optimizer steps (D, D, G+F+E, G)
    for key, value in state.items():  # the frozen network, as read, in the checkpoint
        assert torch.equal(saved["state_dict"][f"fan.{key}"], value), key
    assert not any(key.startswith("ema.copies.fan.") for key in saved["state_dict"])

"""Recycle-GAN through ``unpaired-train`` on a tiny synthetic video set: a whole run (with the
exact temporal error in its report), a run stopped and resumed that ends bit for bit where an
uninterrupted one ends, ReCycle-GAN, and two DDP processes holding the same weights."""

import json
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from unpaired.data.video import video_info, write_video
from unpaired.inference.load import load_translator
from unpaired.utils.checkpoint import load_checkpoint

TINY_VIDEO = [
    "experiment=recycle_gan/synthetic_video",
    "data.n_train=2",
    "data.n_test=1",
    "data.clip_frames=4",  # 2 windows of 3 frames per clip
    "data.num_workers=0",
    "data.val_batch_size=2",
    "model.generator.ngf=4",
    "model.generator.n_blocks=1",
    "model.discriminator.ndf=4",
    "model.predictor.ngf=4",
    "model.scheduler.n_epochs=1",
    "model.scheduler.n_epochs_decay=1",
    "logger=csv",
    "trainer.accelerator=cpu",
]


def paths(root: Path) -> list[str]:
    return [f"paths.data_dir={root / 'data'}", f"paths.experiments_dir={root / 'runs'}"]


DETERMINISTIC = "trainer.deterministic=true"


def whole_run(run_cli, root: Path) -> Path:
    result = run_cli("train", [*paths(root), *TINY_VIDEO, DETERMINISTIC, "name=whole"], cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (root / "runs" / "whole").iterdir()
    return run


def test_a_run_trains_reports_the_exact_temporal_error_and_its_model_is_used_as_any_other(
    run_cli, tmp_path: Path
) -> None:
    """The run, then what it leaves: ``unpaired-translate`` on a video file, and
    ``unpaired-export`` of the A→B generator, whose files translate as the checkpoint does."""
    run = whole_run(run_cli, tmp_path)
    report = json.loads((run / "ground_truth.json").read_text())
    assert {"L1_AB", "TL1_AB", "L1_BA", "TL1_BA"} <= set(report["end"])
    assert report["end"]["L1_AB"] < report["start"]["L1_AB"]
    assert (run / "samples" / "val_epoch0001.png").is_file()

    checkpoint = run / "checkpoints" / "last.ckpt"
    frames = torch.rand(5, 32, 32, 3, generator=torch.Generator().manual_seed(0))
    write_video(tmp_path / "clip.mp4", (frames * 255).to(torch.uint8).numpy(), Fraction(10))
    args = [f"ckpt={checkpoint}", "input=clip.mp4", "output=clip_B.mp4", "direction=AtoB"]
    translated = run_cli("translate", args, cwd=tmp_path)
    assert translated.returncode == 0, translated.stderr[-3000:]
    assert video_info(tmp_path / "clip_B.mp4").frames == 5

    args = [f"ckpt={checkpoint}", "output=exported", "direction=AtoB"]
    exported = run_cli("export", args, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = load_translator(checkpoint, "AtoB")(images)
        for suffix in (".pt", ".safetensors"):
            got = load_translator(tmp_path / "exported" / f"last_AtoB{suffix}", "AtoB")(images)
            torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_a_run_resumed_ends_where_a_whole_one_does(run_cli, tmp_path: Path) -> None:
    run = whole_run(run_cli, tmp_path)
    common = [*paths(tmp_path), *TINY_VIDEO, DETERMINISTIC]
    first = run_cli("train", [*common, "name=halves", "trainer.max_epochs=1"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_cli("train", [*common, "name=halves", "resume=auto"], cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    [halves] = (tmp_path / "runs" / "halves").iterdir()
    expected = load_checkpoint(run / "checkpoints" / "last.ckpt")
    resumed = load_checkpoint(halves / "checkpoints" / "last.ckpt")
    assert (
        resumed["global_step"] == expected["global_step"] == 2 * 4 * 2
    )  # 2 epochs of 4 windows, G and D
    for key, value in expected["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key


@pytest.mark.slow
def test_recycle_gan_variant_trains(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "train",
        [*paths(tmp_path), *TINY_VIDEO, "model.image_cycle=true", "model.lambda_identity=0.5",
         "trainer.max_epochs=1", "trainer.log_every_n_steps=1"],
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (tmp_path / "runs").glob("*/*")
    logged = (run / "csv" / "version_0" / "metrics.csv").read_text().splitlines()[0]
    assert all(f"train/{term}" in logged for term in ("cycle_A", "idt_B", "recycle_A"))


@pytest.mark.slow
def test_two_ddp_processes_train_the_same_weights(
    tmp_path: Path, train_with_probes, save_parameters
) -> None:
    result = train_with_probes(
        [*paths(tmp_path), *TINY_VIDEO, "trainer=ddp_cpu", "trainer.max_epochs=1",
         *save_parameters(tmp_path / "ddp")],
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / "ddp" / f"rank{r}_end.pt") for r in (0, 1))
    start = torch.load(tmp_path / "ddp" / "rank0_start.pt")
    assert any(name.startswith("P_A.") for name in rank0)
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), name
    assert any(not torch.equal(value, start[name]) for name, value in rank0.items())

"""``unpaired-evaluate`` as a user runs it, on a tiny synthetic set with a random Inception."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.cli.evaluate import evaluate
from unpaired.errors import ConfigError
from unpaired.evaluation.load import load_module
from unpaired.metrics.ground_truth import per_image_errors

N_TEST = 3  # tests/conftest.py: evaluation_overrides


@pytest.fixture
def checkpoint(tmp_path, make_cyclegan, save_checkpoint) -> Path:
    """A CycleGAN checkpoint in a run's checkpoints/ folder, with Lightning's keys."""
    torch.manual_seed(0)
    module = make_cyclegan("model.generator.n_blocks=1")
    return save_checkpoint(module, tmp_path / "run" / "checkpoints" / "last.ckpt")


def test_evaluate_writes_fid_kid_ground_truth_images_and_page(
    tmp_path, checkpoint, run_cli, random_inception_weights, evaluation_overrides
):
    result = run_cli(
        "evaluate",
        [
            f"ckpt={checkpoint}",
            f"metrics.inception_weights={random_inception_weights}",
            "metrics.batch_size=2",  # batches of 2 and of 1: nothing lost at a batch border
            "device=cpu",
            "logger=wandb",  # offline: the numbers and the grids go into <evaluation>/wandb/
            *evaluation_overrides,
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (tmp_path / "run" / "evaluation").iterdir()  # <run>/evaluation/<date_time>/
    results = json.loads((folder / "results.json").read_text())
    synthetic = tmp_path / "data" / "synthetic"

    assert results["checkpoint"] == str(checkpoint)
    assert results["weights"] == "raw"  # trained without averaged weights
    protocol = results["protocol"]
    assert protocol["inception_weights"] == str(random_inception_weights)
    assert "299" in protocol["resize"] and "bilinear" in protocol["resize"]
    for direction, source, target in (("AtoB", "A", "B"), ("BtoA", "B", "A")):
        entry = results[direction]
        assert entry["reference"] == str(folder / "images" / f"real_{target}")
        assert entry["reference_source"] == str(synthetic / f"test{target}")
        assert entry["n_translated"] == entry["n_reference"] == N_TEST
        assert entry["fid"] > 0 and np.isfinite(entry["kid"])
        assert entry["kid_subset_size"] == N_TEST  # capped at the sample
        translations = sorted(Path(entry["translations"]).glob("*.png"))
        assert [p.name for p in translations] == sorted(
            p.name for p in (synthetic / f"test{source}").iterdir()
        )
        assert Image.open(translations[0]).size == (32, 32)
        assert len(list((folder / "images" / f"rec_{source}").glob("*.png"))) == N_TEST
        assert set(entry["ground_truth"]) == {"L1", "PSNR", "SSIM"}
        assert 0 < entry["ground_truth"]["SSIM"] < 1

    # The ground truth is exact: the mean over images of the model's own float translations.
    module, _ = load_module(checkpoint)
    real = torch.stack([_load(p) for p in sorted((synthetic / "testA").iterdir())])
    truth = torch.stack([_load(p) for p in sorted((synthetic / "testA_true").iterdir())])
    with torch.no_grad():
        expected = per_image_errors(module.translate(real, "AtoB"), truth)
    assert results["AtoB"]["ground_truth"]["L1"] == pytest.approx(float(expected["L1"].mean()))

    page = (folder / "index.html").read_text()
    links = re.findall(r"<img src='([^']+)'", page)
    assert len(links) == 2 * N_TEST * 4  # input | translation | reconstruction | truth, both ways
    assert all((folder / link).is_file() for link in links)
    assert (folder / "grid_AtoB.png").is_file() and (folder / "grid_BtoA.png").is_file()
    screen = result.stderr + result.stdout
    # a bar for each piece of work that takes time, complete (not a terminal: written at the end)
    for bar in (
        "translating A → B",
        "translating B → A",
        "Inception features of real_B",
        "Inception features of fake_B",
        "Inception features of fake_A",
    ):
        assert re.search(rf"{bar} .* {N_TEST}/{N_TEST} ", screen), bar
    fid = results["AtoB"]["fid"]
    assert f"AtoB     FID {fid:.2f}, KID" in screen  # the numbers, then where they are
    assert f"results  {(folder / 'results.json').relative_to(tmp_path)}" in screen
    (wandb_run,) = (folder / "wandb").glob("offline-run-*")
    grids = sorted(p.name for p in wandb_run.glob("files/media/images/eval/*.png"))
    assert [name.rsplit("_", 2)[0] for name in grids] == ["images_AtoB", "images_BtoA"]
    # wandb gets the labelled grid saved beside the page, pixel for pixel
    logged = next(wandb_run.glob("files/media/images/eval/images_AtoB_*.png"))
    assert np.array_equal(_pixels(logged), _pixels(folder / "grid_AtoB.png"))


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(image.convert("RGB"))


def _load(path: Path) -> torch.Tensor:
    array = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1) / 127.5 - 1


def test_without_inception_weights_the_command_says_which_file_to_get(
    tmp_path, checkpoint, run_cli, monkeypatch, evaluation_overrides
):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))
    result = run_cli(
        "evaluate", [f"ckpt={checkpoint}", "device=cpu", *evaluation_overrides], cwd=tmp_path
    )
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "weights-inception-2015-12-05-6726825d.pth" in output
    assert str(tmp_path / "empty_torch_home" / "hub" / "checkpoints") in output
    assert "Traceback" not in output


def test_without_ckpt_the_command_says_it_is_required(compose_train, evaluation_overrides):
    cfg = compose_train(evaluation_overrides, config_name="evaluate")
    with pytest.raises(ConfigError, match="ckpt is required: unpaired-evaluate ckpt="):
        evaluate(cfg)


def test_on_clips_the_temporal_error_of_every_clip_is_measured_against_its_truth(
    tmp_path, checkpoint, run_cli
):
    from unpaired.metrics.ground_truth import per_clip_temporal_error

    result = run_cli(
        "evaluate",
        [
            f"ckpt={checkpoint}",
            "data=synthetic_video",
            f"paths.data_dir={tmp_path / 'data'}",
            "data.image_size=32",
            "data.load_size=32",
            "data.crop_size=32",
            "data.n_train=1",
            "data.n_test=2",
            "data.clip_frames=4",
            "data.num_workers=0",
            "metrics.fid=false",
            "metrics.kid=false",
            "device=cpu",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (tmp_path / "run" / "evaluation").iterdir()
    truth = json.loads((folder / "results.json").read_text())["AtoB"]["ground_truth"]
    images = folder / "images"

    def clip(kind: str, index: int) -> torch.Tensor:
        paths = sorted((images / kind).glob(f"clip{index:04d}_*.png"))
        assert len(paths) == 4
        frames = [torch.from_numpy(np.asarray(Image.open(p))).permute(2, 0, 1) for p in paths]
        return torch.stack(frames)[None].float() / 127.5 - 1

    by_hand = [per_clip_temporal_error(clip("fake_B", c), clip("true_B", c)) for c in (0, 1)]
    assert truth["TL1"] == pytest.approx(float(torch.cat(by_hand).mean()), abs=2e-3)  # PNG rounding
    assert truth["TL1"] > 0 and "L1" in truth


def test_the_warping_error_of_clips_follows_the_inputs_flow_with_raft_weights_from_a_file(
    tmp_path, checkpoint, run_cli
):
    from torchvision.models.optical_flow import raft_small

    weights = tmp_path / "raft_small_C_T_V2-01064c6d.pth"
    with torch.random.fork_rng():  # later tests' models draw from torch's RNG as before
        torch.manual_seed(0)
        torch.save(raft_small(weights=None).state_dict(), weights)  # random weights: it runs
    common = [
        f"ckpt={checkpoint}",
        "data=synthetic_video",
        f"paths.data_dir={tmp_path / 'data'}",
        "data.image_size=32",
        "data.load_size=32",
        "data.crop_size=32",
        "data.n_train=1",
        "data.n_test=1",
        "data.clip_frames=3",
        "data.num_workers=0",
        "metrics.fid=false",
        "metrics.kid=false",
        "metrics.warping_error=true",
        "device=cpu",
    ]
    missing = run_cli(
        "evaluate", [*common, f"metrics.raft_weights={tmp_path / 'none.pth'}"], cwd=tmp_path
    )
    assert missing.returncode != 0
    assert "raft_small_C_T_V2-01064c6d.pth" in missing.stderr + missing.stdout
    result = run_cli("evaluate", [*common, f"metrics.raft_weights={weights}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (results,) = (tmp_path / "run" / "evaluation").glob("*/results.json")
    entry = json.loads(results.read_text())["AtoB"]
    assert entry["warping_error"] > 0
    assert "WE" in result.stdout + result.stderr

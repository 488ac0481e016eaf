"""The evaluation of a one-directional model, without the Inception metrics, and of a paired
model on aligned data (by unpaired-evaluate and by the training-time FID)."""

from collections.abc import Callable
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.callbacks import ValidationFID
from unpaired.data.aligned import SyntheticAlignedDataModule
from unpaired.data.datamodule import SyntheticDataModule
from unpaired.evaluation.evaluate import EvaluatedModel, Evaluation, MetricOptions
from unpaired.metrics.ground_truth import per_image_errors
from unpaired.models import Pix2Pix


def test_a_one_directional_model_is_judged_a_to_b_without_reconstructions(
    tiny_data: Callable[[], SyntheticDataModule], tmp_path: Path
) -> None:
    module = tiny_pix2pix()  # makes A -> B only, as CUT
    options = MetricOptions(fid=False, kid=False)
    results = Evaluation([EvaluatedModel("pix2pix", module)], tiny_data(), tmp_path, options).run()

    assert set(results) == {"AtoB", "protocol"}
    assert "fid" not in results["AtoB"] and "inception_weights" not in results["protocol"]
    assert set(results["AtoB"]["ground_truth"]) == {"L1", "PSNR", "SSIM"}
    folders = sorted(p.name for p in (tmp_path / "images").iterdir())
    assert folders == ["fake_B", "real_A", "real_B", "true_B"]
    page = (tmp_path / "index.html").read_text()
    assert "rec A" not in page and page.count("<img ") == 2 * 3  # input | fake B | true B


def tiny_pix2pix() -> Pix2Pix:
    torch.manual_seed(0)
    return Pix2Pix(
        generator={"_target_": "unpaired.nn.UnetGenerator", "num_downs": 5, "ngf": 8},
        discriminator={"_target_": "unpaired.nn.PatchGANDiscriminator", "input_nc": 6, "ndf": 8},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        paper_inference=False,  # deterministic translations, to recompute them below
    ).eval()


@pytest.fixture
def aligned_data(tmp_path: Path) -> SyntheticAlignedDataModule:
    return SyntheticAlignedDataModule(
        root=str(tmp_path / "aligned"),
        image_size=32,
        n_train=1,
        n_test=3,
        load_size=32,
        crop_size=32,
        num_workers=0,
    )


def halves(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The left (A) and right (B) halves of an aligned test file, in [-1, 1]."""
    pair = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32))
    pair = pair.permute(2, 0, 1) / 127.5 - 1
    return pair[..., :32], pair[..., 32:]


def test_a_paired_model_is_evaluated_on_aligned_data(
    aligned_data: SyntheticAlignedDataModule, random_inception_weights: Path, tmp_path: Path
) -> None:
    module = tiny_pix2pix()
    options = MetricOptions(inception_weights=str(random_inception_weights), batch_size=2)
    evaluation = Evaluation(
        [EvaluatedModel("pix2pix", module)], aligned_data, tmp_path / "eval", options
    )
    results = evaluation.run()

    files = sorted((tmp_path / "aligned" / "test").iterdir())
    entry = results["AtoB"]
    assert entry["n_translated"] == entry["n_reference"] == 3
    assert entry["reference_source"] == str(tmp_path / "aligned" / "test")
    assert entry["fid"] > 0 and np.isfinite(entry["kid"])
    real_A = sorted((tmp_path / "eval" / "images" / "real_A").iterdir())
    real_B = sorted((tmp_path / "eval" / "images" / "real_B").iterdir())
    assert [p.stem for p in real_A] == [p.stem for p in real_B] == [p.stem for p in files]
    left, right = zip(*(halves(path) for path in files), strict=True)
    saved_B = torch.from_numpy(np.asarray(Image.open(real_B[0]), dtype=np.float32))
    assert torch.allclose(saved_B.permute(2, 0, 1) / 127.5 - 1, right[0], atol=1e-6)
    # the ground truth of A -> B is the right half of each pair
    with torch.no_grad():
        expected = per_image_errors(module.translate(torch.stack(left)), torch.stack(right))
    assert entry["ground_truth"]["L1"] == pytest.approx(float(expected["L1"].mean()), rel=1e-5)


def test_training_time_fid_reads_aligned_test_pairs(
    aligned_data: SyntheticAlignedDataModule, random_inception_weights: Path, tmp_path: Path
) -> None:
    fid = ValidationFID(
        every_n_epochs=1, n_images=3, inception_weights=str(random_inception_weights)
    )
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[fid],
        default_root_dir=tmp_path,
    )
    trainer.fit(tiny_pix2pix(), datamodule=aligned_data)
    assert np.isfinite(float(trainer.callback_metrics["val/fid_AB"]))
    assert "val/fid_BA" not in trainer.callback_metrics  # pix2pix translates A to B only

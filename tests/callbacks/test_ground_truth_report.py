"""The before/after report of the error against the true translation: exact over what validation
measures, and as short as the run (one batch in a fast_dev_run)."""

import json
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch

from unpaired.callbacks import GroundTruthReport
from unpaired.callbacks.ground_truth import validation_batches
from unpaired.data.datamodule import SyntheticDataModule
from unpaired.metrics.ground_truth import per_image_errors
from unpaired.models import CycleGAN


@pytest.fixture
def six_test_pairs(tmp_path: Path) -> SyntheticDataModule:
    """Synthetic data with 3 validation batches of 2."""
    return SyntheticDataModule(
        root=str(tmp_path / "synthetic"),
        image_size=32,
        n_train=2,
        n_test=6,
        load_size=32,
        crop_size=32,
        val_batch_size=2,
        num_workers=0,
    )


def fit(model: CycleGAN, data: SyntheticDataModule, report: GroundTruthReport, **options) -> None:
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[report],
        **options,
    )
    trainer.fit(model, datamodule=data)


@pytest.mark.parametrize(
    ("options", "report_batches"),
    [({}, 3), ({"limit_val_batches": 2}, 2), ({"fast_dev_run": True}, 1)],
)
def test_the_report_measures_the_batches_validation_runs(
    make_cyclegan: Callable[..., CycleGAN],
    six_test_pairs: SyntheticDataModule,
    tmp_path: Path,
    options: dict,
    report_batches: int,
) -> None:
    model = make_cyclegan("model.generator.n_blocks=1", "model.scheduler.n_epochs=1")
    calls: list[bool] = []  # model.training at each forward of the generators
    generate = model.generate

    def recording(batch):
        calls.append(model.training)
        return generate(batch)

    model.generate = recording
    report = GroundTruthReport(tmp_path / "report.json")
    fit(model, six_test_pairs, report, num_sanity_val_steps=0, limit_train_batches=1, **options)
    start_report = calls[: calls.index(True)]  # the evaluations before the first training step
    assert len(start_report) == report_batches
    assert set(json.loads((tmp_path / "report.json").read_text())) == {"start", "end"}


def test_the_report_is_the_mean_error_of_the_models_translations(
    make_cyclegan: Callable[..., CycleGAN], six_test_pairs: SyntheticDataModule, tmp_path: Path
) -> None:
    model = make_cyclegan("model.generator.n_blocks=1", "model.scheduler.n_epochs=1")
    report = GroundTruthReport(tmp_path / "report.json")
    fit(model, six_test_pairs, report, limit_train_batches=1, limit_val_batches=2)
    written = json.loads((tmp_path / "report.json").read_text())
    batches = list(six_test_pairs.val_dataloader())[:2]
    model.eval()
    with torch.no_grad():
        fakes = torch.cat([model.translate(batch["A"], "AtoB") for batch in batches])
    truths = torch.cat([batch["target_B"] for batch in batches])
    expected = per_image_errors(fakes, truths)["L1"].mean()
    assert written["end"]["L1_AB"] == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize(
    ("length", "limit", "expected"), [(3, 1.0, 3), (3, 2, 2), (3, 7, 3), (4, 0.5, 2), (3, 0, 0)]
)
def test_validation_batches_as_lightning_counts_them(length, limit, expected) -> None:
    assert validation_batches(length, limit) == expected

"""A validation metric (FID during training, or the ground-truth PSNR) chooses best.ckpt, and the
run logs its best value with the epoch and its last value."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers.logger import Logger

from unpaired.callbacks import Checkpointing, ValidationFID
from unpaired.data.datamodule import SyntheticDataModule
from unpaired.models import CycleGAN
from unpaired.utils.checkpoint import SafeCheckpointIO, load_checkpoint


class Recorder(Logger):
    """Keeps every logged metric as (step, name, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.logged: list[tuple[int | None, str, float]] = []

    @property
    def name(self) -> str:
        return "recorder"

    @property
    def version(self) -> int:
        return 0

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.logged += [(step, name, float(value)) for name, value in metrics.items()]

    def values(self, name: str) -> list[float]:
        return [value for _, logged, value in self.logged if logged == name]


def _fit(
    model: CycleGAN,
    data: SyntheticDataModule,
    callbacks: Sequence[L.Callback],
    logger: Logger,
    root: Path,
    epochs: int = 3,
) -> None:
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        logger=logger,
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=list(callbacks),
        plugins=[SafeCheckpointIO()],
        default_root_dir=root,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer.fit(model, datamodule=data)
    finally:
        torch.set_num_threads(threads)


def test_fid_every_k_epochs_drives_best_checkpoint_and_logs_best_and_last(
    make_cyclegan: Callable[..., CycleGAN],
    tiny_data: Callable[[], SyntheticDataModule],
    random_inception_weights: Path,
    tmp_path: Path,
) -> None:
    fid = ValidationFID(
        every_n_epochs=2, n_images=2, inception_weights=str(random_inception_weights)
    )
    checkpointing = Checkpointing(tmp_path / "ckpt", monitor="val/fid_AB", safetensors=False)
    recorder = Recorder()
    _fit(make_cyclegan(), tiny_data(), [fid, checkpointing], recorder, tmp_path, epochs=4)

    measured = recorder.values("val/fid_AB")
    assert len(measured) == 2  # epochs 1 and 3 of 0..3
    assert len(recorder.values("val/fid_BA")) == len(recorder.values("val/kid_AB")) == 2
    assert recorder.values("last/val_fid_AB") == pytest.approx(measured)
    best_epoch = (1, 3)[min(range(2), key=measured.__getitem__)]
    assert recorder.values("best/val_fid_AB")[-1] == pytest.approx(min(measured))
    assert recorder.values("best/val_fid_AB_epoch")[-1] == best_epoch
    assert load_checkpoint(tmp_path / "ckpt" / "best.ckpt")["epoch"] == best_epoch


def test_ground_truth_psnr_with_mode_max_logs_the_best_epoch(
    make_cyclegan: Callable[..., CycleGAN],
    tiny_data: Callable[[], SyntheticDataModule],
    tmp_path: Path,
) -> None:
    checkpointing = Checkpointing(
        tmp_path / "ckpt", monitor="val/gt_PSNR_AB", mode="max", safetensors=False
    )
    recorder = Recorder()
    _fit(make_cyclegan(), tiny_data(), [checkpointing], recorder, tmp_path)

    last = recorder.values("last/val_gt_PSNR_AB")
    assert len(last) == 3
    assert recorder.values("best/val_gt_PSNR_AB") == pytest.approx(
        [max(last[: i + 1]) for i in range(3)]
    )
    best_epoch = max(range(3), key=last.__getitem__)
    assert recorder.values("best/val_gt_PSNR_AB_epoch")[-1] == best_epoch
    assert checkpointing.state_dict()["best_epoch"] == best_epoch
    assert load_checkpoint(tmp_path / "ckpt" / "best.ckpt")["epoch"] == best_epoch

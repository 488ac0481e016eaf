import errno
import os
import random
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch

from unpaired.callbacks import Checkpointing
from unpaired.errors import CheckpointError
from unpaired.models import CycleGAN
from unpaired.utils.checkpoint import load_checkpoint

MONITOR = "val/gt_L1_AB"
BATCHES = 4  # per epoch of the tiny set


class ValidationScores(L.Callback):
    """Records the monitored validation value of each epoch."""

    def __init__(self) -> None:
        self.scores: list[float] = []

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.scores.append(float(trainer.callback_metrics[MONITOR]))


class PoisonValidation(L.Callback):
    """Fills the validation images of the first epoch with NaN."""

    def on_validation_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, *args: Any
    ) -> None:
        if trainer.current_epoch == 0:
            batch["A"].fill_(float("nan"))


class Fail(L.Callback):
    """Runs ``action(trainer)`` after the training batch ``batch`` (counted over the run)."""

    def __init__(self, batch: int, action: Callable[[L.Trainer], None]) -> None:
        self.batch, self.action = batch, action

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.fit_loop.total_batch_idx == self.batch:
            self.action(trainer)


def test_last_periodic_best_and_safetensors_are_written(
    make_cyclegan: Callable[..., CycleGAN], fit: Callable[..., L.Trainer], tmp_path: Path
) -> None:
    scores = ValidationScores()
    checkpointing = Checkpointing(tmp_path / "ckpt", keep_every_n_epochs=2, monitor=MONITOR)
    fit(make_cyclegan(), [checkpointing, scores], max_epochs=3)

    names = {path.name for path in (tmp_path / "ckpt").iterdir()}
    stems, suffixes = ("last", "epoch0001", "best"), (".ckpt", ".generators.safetensors")
    assert names == {stem + suffix for stem in stems for suffix in suffixes}
    last = load_checkpoint(tmp_path / "ckpt" / "last.ckpt")
    assert (last["epoch"], last["global_step"]) == (2, 3 * BATCHES * 2)  # G and D step per batch
    assert load_checkpoint(tmp_path / "ckpt" / "epoch0001.ckpt")["epoch"] == 1
    best_epoch = min(range(3), key=scores.scores.__getitem__)
    assert load_checkpoint(tmp_path / "ckpt" / "best.ckpt")["epoch"] == best_epoch
    assert checkpointing.best_score == min(scores.scores)


def test_a_nan_validation_score_is_never_the_best(
    make_cyclegan: Callable[..., CycleGAN], fit: Callable[..., L.Trainer], tmp_path: Path
) -> None:
    scores = ValidationScores()
    checkpointing = Checkpointing(tmp_path, monitor=MONITOR, safetensors=False)
    fit(make_cyclegan(), [checkpointing, PoisonValidation(), scores], max_epochs=3)
    assert torch.isnan(torch.tensor(scores.scores[0]))
    assert load_checkpoint(tmp_path / "best.ckpt")["epoch"] != 0
    assert checkpointing.best_score == min(scores.scores[1:])


def test_last_is_written_every_n_batches_and_when_training_crashes(
    make_cyclegan: Callable[..., CycleGAN], fit: Callable[..., L.Trainer], tmp_path: Path
) -> None:
    def crash(trainer: L.Trainer) -> None:
        assert load_checkpoint(tmp_path / "last.ckpt")["global_step"] == 3 * 2  # after batch 3
        raise RuntimeError("crash")

    checkpointing = Checkpointing(tmp_path, every_n_batches=3, safetensors=False)
    with pytest.raises(RuntimeError, match="crash"):
        fit(make_cyclegan(), [checkpointing, Fail(batch=3, action=crash)], max_epochs=3)
    assert load_checkpoint(tmp_path / "last.ckpt")["global_step"] == 4 * 2  # saved on the crash


def test_a_full_disk_stops_the_run_and_keeps_the_previous_checkpoint(
    make_cyclegan: Callable[..., CycleGAN],
    fit: Callable[..., L.Trainer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fill_the_disk(trainer: L.Trainer) -> None:
        def no_space(obj: Any, file: Any) -> None:
            file.write(b"some bytes")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(torch, "save", no_space)

    checkpointing = Checkpointing(tmp_path, safetensors=False)
    with pytest.raises(CheckpointError, match=r"No space left on device.*intact"):
        fit(make_cyclegan(), [checkpointing, Fail(batch=BATCHES + 1, action=fill_the_disk)])
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "last.ckpt")["epoch"] == 0
    assert list(tmp_path.glob(".*partial")) == []


def test_an_unwritable_checkpoint_folder_fails_before_training(
    make_cyclegan: Callable[..., CycleGAN], fit: Callable[..., L.Trainer], tmp_path: Path
) -> None:
    (tmp_path / "a_file").write_text("")
    model = make_cyclegan()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"cannot write to .*a_file"):
        fit(model, [Checkpointing(tmp_path / "a_file" / "checkpoints")])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_history_pools_and_rng_round_trip_through_weights_only_loading(
    make_cyclegan: Callable[..., CycleGAN], fit: Callable[..., L.Trainer], tmp_path: Path
) -> None:
    trained = make_cyclegan()
    fit(trained, [Checkpointing(tmp_path, safetensors=False)], max_epochs=1)
    checkpoint = load_checkpoint(tmp_path / "last.ckpt")
    assert set(checkpoint["rng_states"]) >= {"python", "numpy", "torch"}

    restored = make_cyclegan()
    restored.on_load_checkpoint(checkpoint)
    for name in ("pool_A", "pool_B"):
        images, expected = getattr(restored, name).images, getattr(trained, name).images
        assert len(images) == BATCHES
        assert all(torch.equal(a, b) for a, b in zip(images, expected, strict=True))


def test_a_resume_keeps_the_best_score_of_the_same_monitor_and_the_random_streams(
    tmp_path: Path,
) -> None:
    # What Lightning does on save and on resume; only the trainer's loggers are consulted.
    trainer = types.SimpleNamespace(loggers=[])
    saved = Checkpointing(tmp_path, monitor=MONITOR)
    saved.best_score, saved.best_epoch = 0.25, 3
    checkpoint: dict[str, Any] = {}
    saved.on_save_checkpoint(trainer, None, checkpoint)  # type: ignore[arg-type]
    expected = (random.random(), np.random.rand(), torch.rand(3))
    random.random(), np.random.rand(), torch.rand(5)  # the streams move on

    resumed = Checkpointing(tmp_path, monitor=MONITOR)
    resumed.load_state_dict(saved.state_dict())
    resumed.on_load_checkpoint(trainer, None, checkpoint)  # type: ignore[arg-type]
    assert (resumed.best_score, resumed.best_epoch) == (0.25, 3)
    python, numpy, torch_ = random.random(), np.random.rand(), torch.rand(3)
    assert (python, numpy) == expected[:2]
    assert torch.equal(torch_, expected[2])

    # a score of another metric is no best for this one
    other = Checkpointing(tmp_path, monitor="val/fid")
    other.load_state_dict(saved.state_dict())
    assert (other.best_score, other.best_epoch) == (None, None)


def test_the_best_is_the_lowest_or_the_highest_value_and_nothing_else(tmp_path: Path) -> None:
    assert Checkpointing(tmp_path, monitor=MONITOR, mode="max").mode == "max"
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'median'"):
        Checkpointing(tmp_path, monitor=MONITOR, mode="median")

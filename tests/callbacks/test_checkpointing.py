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


class _RecordingLogger:
    def __init__(self) -> None:
        self.logged: list[tuple[dict[str, float], int]] = []

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.logged.append((dict(metrics), step))


class _Trainer:
    """The trainer as the callback sees it between epochs: what it reads, and a save that
    writes the epoch's number (so that each file says which epoch it holds)."""

    def __init__(self) -> None:
        self.callback_metrics: dict[str, torch.Tensor] = {}
        self.sanity_checking = False
        self.fast_dev_run = False
        self.is_global_zero = True
        self.current_epoch = 0
        self.global_step = 0
        self.lightning_module = torch.nn.Linear(1, 1)
        self.loggers = [_RecordingLogger()]

    def save_checkpoint(self, path: Path, weights_only: bool = False) -> None:
        partial = Path(path).with_suffix(".partial")  # replaced whole, as SafeCheckpointIO does
        partial.write_text(str(self.current_epoch))
        os.replace(partial, path)


def _epochs(checkpointing: Checkpointing, scores: list[float | None]) -> _Trainer:
    """Run the callback's hooks through one epoch per score (None: the metric is not logged)."""
    trainer = _Trainer()
    for epoch, score in enumerate(scores):
        trainer.current_epoch, trainer.global_step = epoch, 10 * (epoch + 1)
        module = trainer.lightning_module
        checkpointing.on_validation_epoch_start(trainer, module)  # type: ignore[arg-type]
        if score is not None:
            trainer.callback_metrics[MONITOR] = torch.tensor(score)
        checkpointing.on_validation_end(trainer, module)  # type: ignore[arg-type]
        checkpointing.on_train_epoch_end(trainer, module)  # type: ignore[arg-type]
    return trainer


@pytest.mark.parametrize(
    ("mode", "scores", "best_epoch"),
    [("min", [0.5, 0.3, 0.3, None, 0.4], 1), ("max", [0.5, 0.7, 0.7, None, 0.6], 1)],
)
def test_the_first_best_epoch_is_kept_logged_and_published(
    tmp_path: Path, mode: str, scores: list[float | None], best_epoch: int
) -> None:
    # a tie does not replace the best, and an epoch without the metric neither counts nor logs
    checkpointing = Checkpointing(
        tmp_path, monitor=MONITOR, mode=mode, keep_every_n_epochs=2, safetensors=False
    )
    trainer = _epochs(checkpointing, scores)
    best = scores[best_epoch]
    assert (checkpointing.best_score, checkpointing.best_epoch) == (
        pytest.approx(best),
        best_epoch,
    )
    assert (tmp_path / "best.ckpt").read_text() == str(best_epoch)
    assert (tmp_path / "last.ckpt").read_text() == str(len(scores) - 1)
    assert sorted(p.name for p in tmp_path.glob("epoch*.ckpt")) == [
        "epoch0001.ckpt",
        "epoch0003.ckpt",
    ]
    assert (tmp_path / "epoch0003.ckpt").read_text() == "3"
    logged = trainer.loggers[0].logged
    assert [step for _, step in logged] == [10, 20, 30, 50]  # not the epoch without a value
    name = MONITOR.replace("/", "_")
    assert logged[-1][0] == {
        f"last/{name}": pytest.approx(scores[-1]),
        f"best/{name}": pytest.approx(best),
        f"best/{name}_epoch": best_epoch,
    }


def test_without_a_monitor_nothing_is_best_and_only_last_is_written(tmp_path: Path) -> None:
    checkpointing = Checkpointing(tmp_path, safetensors=False)
    trainer = _epochs(checkpointing, [0.5, 0.3])
    assert checkpointing.best_score is None and not (tmp_path / "best.ckpt").exists()
    assert (tmp_path / "last.ckpt").read_text() == "1"
    assert trainer.loggers[0].logged == []

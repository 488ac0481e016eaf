import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch

from unpaired.callbacks import Checkpointing, NonFiniteGuard
from unpaired.errors import NonFiniteError
from unpaired.models import CycleGAN, updates
from unpaired.utils.checkpoint import load_checkpoint

MakeCycleGAN = Callable[..., CycleGAN]
Fit = Callable[..., L.Trainer]


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in model.state_dict().items()}


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[key], b[key]) for key in a if key != "nonfinite_steps")


class PoisonBatches(L.Callback):
    """Fills the A images of the chosen training batches (counted over the run) with NaN and
    records the weights just before and after each of them."""

    def __init__(self, batches: set[int] | range) -> None:
        self.batches = batches
        self.before: dict[int, dict[str, torch.Tensor]] = {}
        self.after: dict[int, dict[str, torch.Tensor]] = {}

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        index = trainer.fit_loop.total_batch_idx
        if index in self.batches:
            self.before[index] = snapshot(pl_module)
            batch["A"].fill_(float("nan"))

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any
    ) -> None:
        if trainer.fit_loop.total_batch_idx in self.batches:
            self.after[trainer.fit_loop.total_batch_idx] = snapshot(pl_module)


class PoisonWeights(L.Callback):
    """Sets one generator weight to NaN when the second epoch starts."""

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == 1:
            with torch.no_grad():
                next(pl_module.G_AB.parameters()).view(-1)[0] = float("nan")


@pytest.mark.parametrize("fused", [True, False], ids=["skipped-on-device", "decided-on-host"])
def test_a_nonfinite_update_is_skipped_counted_and_logged(
    make_cyclegan: MakeCycleGAN, fit: Fit, caplog: Any, fused: bool
) -> None:
    model, poison = make_cyclegan(f"model.optimizer.fused={fused}"), PoisonBatches({1})
    with caplog.at_level(logging.WARNING):
        trainer = fit(model, [poison, NonFiniteGuard(max_consecutive=3)], max_epochs=1)
    assert same_weights(poison.before[1], poison.after[1])  # neither G nor D moved
    assert int(model.nonfinite_steps) == 2  # the G and the D update of that batch
    assert int(model.consecutive_nonfinite_steps) == 0  # the next batches were fine again
    # Lightning counts the optimiser calls: the fused kernel is called and skips the update
    # itself (as for updates the grad scaler skips); otherwise the call is left out
    assert trainer.global_step == 2 * 4 if fused else 2 * 3
    assert float(trainer.callback_metrics["train/nonfinite_steps"]) == 2
    assert "non-finite loss or gradient in epoch 0, batch 1: 2 update(s) skipped" in caplog.text
    assert all(torch.isfinite(value).all() for value in model.state_dict().values())


def test_a_streak_of_nonfinite_updates_stops_the_run_with_the_last_good_state_saved(
    make_cyclegan: MakeCycleGAN, fit: Fit, tmp_path: Path
) -> None:
    poison = PoisonBatches(range(5, 100))
    checkpointing = Checkpointing(tmp_path, safetensors=False)
    with pytest.raises(NonFiniteError, match=r"4 optimiser steps in a row .* last good step"):
        fit(make_cyclegan(), [poison, NonFiniteGuard(max_consecutive=3), checkpointing])
    saved = load_checkpoint(tmp_path / "last.ckpt")
    assert same_weights(saved["state_dict"], poison.before[5])
    assert int(saved["state_dict"]["nonfinite_steps"]) == 4


def test_nonfinite_weights_are_never_written_over_the_last_good_checkpoint(
    make_cyclegan: MakeCycleGAN, fit: Fit, tmp_path: Path, caplog: Any
) -> None:
    checkpointing = Checkpointing(tmp_path, safetensors=False)
    with caplog.at_level(logging.ERROR), pytest.raises(NonFiniteError):
        fit(make_cyclegan(), [PoisonWeights(), NonFiniteGuard(max_consecutive=2), checkpointing])
    saved = load_checkpoint(tmp_path / "last.ckpt")
    assert saved["epoch"] == 0
    assert all(torch.isfinite(value).all() for value in saved["state_dict"].values())
    assert "non-finite values: " in caplog.text


def test_a_guard_reading_every_few_steps_warns_at_its_next_look(
    make_cyclegan: MakeCycleGAN, fit: Fit, caplog: Any
) -> None:
    poison = PoisonBatches({1})
    with caplog.at_level(logging.WARNING):
        fit(make_cyclegan(), [poison, NonFiniteGuard(max_consecutive=3, check_every_n_steps=3)])
    assert "batch 1:" not in caplog.text  # it does not look every batch
    assert "non-finite loss or gradient in epoch 0, batch 2: 2 update(s) skipped" in caplog.text


def test_a_streak_between_two_looks_still_stops_the_run(
    make_cyclegan: MakeCycleGAN, fit: Fit
) -> None:
    # batches 1 and 2 are skipped (4 updates in a row), batch 3 is fine again before the look
    guard = NonFiniteGuard(max_consecutive=3, check_every_n_steps=4)
    with pytest.raises(NonFiniteError, match=r"4 optimiser steps in a row .*epoch 0, batch 3"):
        fit(make_cyclegan(), [PoisonBatches({1, 2}), guard])


def test_without_the_fused_skip_protocol_the_update_is_decided_on_the_host(
    make_cyclegan: MakeCycleGAN, fit: Fit, monkeypatch: pytest.MonkeyPatch
) -> None:
    # another torch, whose fused optimisers may not read found_inf: the same skip, on the host
    monkeypatch.setattr(updates, "FOUND_INF_PROTOCOL", False)
    model, poison = make_cyclegan("model.optimizer.fused=true"), PoisonBatches({1})
    trainer = fit(model, [poison, NonFiniteGuard(max_consecutive=3)], max_epochs=1)
    assert same_weights(poison.before[1], poison.after[1])
    assert int(model.nonfinite_steps) == 2
    assert trainer.global_step == 2 * 3  # the skipped calls left out, as on the host path

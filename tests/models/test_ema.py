"""Averaged weights (EMA): the arithmetic of an update, when and what a method averages, that
checkpoints keep them, and that every consumer of a trained model uses them unless told not to."""

from __future__ import annotations

import copy
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from unpaired.errors import ConfigError
from unpaired.inference import load_translator
from unpaired.models.ema import WeightAverage
from unpaired.utils.checkpoint import MODEL_TARGET_KEY, generator_state_dict, save_generators

EMA = {"decay": 0.5}


def test_an_update_moves_the_average_by_one_minus_decay_towards_the_weights() -> None:
    net = nn.Linear(3, 2)
    average = WeightAverage({"G": net}, decay=0.9)
    start = copy.deepcopy(average.copies["G"].state_dict())
    with torch.no_grad():
        net.weight.add_(1.0)
        net.bias.mul_(3.0)
    average.update({"G": net}, step=5)
    for name, value in average.copies["G"].state_dict().items():
        expected = 0.9 * start[name] + 0.1 * net.state_dict()[name]
        torch.testing.assert_close(value, expected)


def test_before_start_step_the_average_is_a_plain_copy() -> None:
    net = nn.Linear(3, 2)
    average = WeightAverage({"G": net}, decay=0.9, start_step=2)
    for step in (0, 1):
        with torch.no_grad():
            net.weight.add_(1.0)
        average.update({"G": net}, step)
        assert torch.equal(average.copies["G"].weight, net.weight)
    previous = average.copies["G"].weight.clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    average.update({"G": net}, 2)
    torch.testing.assert_close(average.copies["G"].weight, 0.9 * previous + 0.1 * net.weight)


@pytest.mark.parametrize("policy", ["copy", "average"])
def test_buffers_are_copied_or_averaged_and_counters_always_copied(policy: str) -> None:
    net = nn.BatchNorm1d(2)
    average = WeightAverage({"N": net}, decay=0.5, buffers=policy)
    net(torch.randn(8, 2) * 3 + 1)  # training mode: running statistics and the counter move
    average.update({"N": net}, step=0)
    copy_ = average.copies["N"]
    assert copy_.num_batches_tracked == net.num_batches_tracked == 1
    if policy == "copy":
        assert torch.equal(copy_.running_mean, net.running_mean)
    else:
        torch.testing.assert_close(copy_.running_mean, 0.5 * net.running_mean)  # from 0


@pytest.mark.parametrize(
    ("options", "key"),
    [({"decay": 1.0}, "decay"), ({"start_step": -1}, "start_step"), ({"buffers": "x"}, "buffers")],
)
def test_bad_options_name_their_key(options: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"model\.ema\.{key}"):
        WeightAverage({"G": nn.Linear(1, 1)}, **options)


def test_the_copies_never_require_gradients_and_stay_in_eval_mode() -> None:
    average = WeightAverage({"G": nn.Sequential(nn.Linear(1, 1), nn.Dropout())})
    average.train()
    assert not any(p.requires_grad for p in average.parameters())
    assert not any(module.training for module in average.modules())


class Recorder(L.Callback):
    """The generator weights after every training batch."""

    def __init__(self) -> None:
        self.weights: list[dict[str, torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.weights.append({k: v.clone() for k, v in pl_module.G_AB.state_dict().items()})


def test_a_method_averages_its_generators_after_every_update(
    sgd_cyclegan, fixed_batches, fit_one_epoch
) -> None:
    model = sgd_cyclegan(ema=EMA)
    assert model.ema is not None and model.ema.names == ("G_AB", "G_BA")
    expected = {k: v.clone() for k, v in model.G_AB.state_dict().items()}
    recorder = Recorder()
    fit_one_epoch(model, fixed_batches(3, 1), callbacks=[recorder])
    for weights in recorder.weights:  # average = 0.5 * average + 0.5 * weights, each batch
        expected = {k: 0.5 * expected[k] + 0.5 * weights[k] for k in expected}
    for name, value in model.ema.copies["G_AB"].state_dict().items():
        torch.testing.assert_close(value, expected[name])
    assert not torch.equal(model.ema.copies["G_AB"].model[1].weight, model.G_AB.model[1].weight)


def test_without_ema_there_are_no_copies(sgd_cyclegan) -> None:
    assert sgd_cyclegan().ema is None
    assert sgd_cyclegan(ema={"enabled": False, "decay": 0.9}).ema is None
    assert not any(key.startswith("ema.") for key in sgd_cyclegan().state_dict())


def test_a_resumed_run_goes_on_with_the_saved_averages(
    tmp_path: Path, sgd_cyclegan, fixed_batches
) -> None:
    def trainer(epochs: int) -> L.Trainer:
        return L.Trainer(
            accelerator="cpu",
            max_epochs=epochs,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
        )

    uninterrupted = sgd_cyclegan(lr=0.01, ema=EMA)
    trainer(2).fit(uninterrupted, train_dataloaders=fixed_batches(2, 1))
    first = sgd_cyclegan(lr=0.01, ema=EMA)
    stopped = trainer(1)
    stopped.fit(first, train_dataloaders=fixed_batches(2, 1))
    stopped.save_checkpoint(tmp_path / "epoch1.ckpt")
    resumed = sgd_cyclegan(lr=0.01, ema=EMA)
    trainer(2).fit(resumed, fixed_batches(2, 1), ckpt_path=tmp_path / "epoch1.ckpt")
    for name, value in uninterrupted.ema.state_dict().items():
        torch.testing.assert_close(resumed.ema.state_dict()[name], value, rtol=0, atol=1e-6)


def averages_apart(model) -> None:
    """Make the averaged generators differ from the trained ones."""
    with torch.no_grad():
        for parameter in model.ema.parameters():
            parameter.add_(0.05)


def test_evaluation_uses_the_averages_unless_the_model_says_raw(sgd_cyclegan) -> None:
    model = sgd_cyclegan(ema=EMA).eval()
    averages_apart(model)
    images = torch.rand(1, 3, 16, 16) * 2 - 1
    raw = model.translate(images, "AtoB")
    averaged = model.ema.copies["G_AB"](images)
    with model.averaged_weights():
        assert torch.equal(model.translate(images, "AtoB"), averaged)
    assert torch.equal(model.translate(images, "AtoB"), raw)  # back in place afterwards
    with model.averaged_weights(use=False):
        assert torch.equal(model.translate(images, "AtoB"), raw)
    told_raw = sgd_cyclegan(ema={**EMA, "evaluate": False})
    trained = told_raw.G_AB
    with told_raw.averaged_weights():
        assert told_raw.G_AB is trained


def test_validation_steps_run_on_the_averages(sgd_cyclegan) -> None:
    model = sgd_cyclegan(ema=EMA).eval()
    averages_apart(model)
    batch = {"A": torch.rand(1, 3, 16, 16) * 2 - 1, "B": torch.rand(1, 3, 16, 16) * 2 - 1}
    with torch.no_grad():
        visuals = model.validation_step(batch, 0)["visuals"]
        assert torch.equal(visuals["fake_B"], model.ema.copies["G_AB"](batch["A"]))


def checkpoint_file(model, path: Path) -> Path:
    torch.save(
        {
            MODEL_TARGET_KEY: model.target(),
            "hyper_parameters": dict(model.hparams),
            "state_dict": model.state_dict(),
        },
        path,
    )
    return path


@pytest.mark.parametrize("kind", ["ckpt", "safetensors"])
def test_translating_a_saved_model_uses_its_averages_unless_told_raw(
    tmp_path: Path, make_cyclegan, kind: str
) -> None:
    model = make_cyclegan("model.generator.n_blocks=1", "model.ema.enabled=true").eval()
    averages_apart(model)
    if kind == "ckpt":
        path = checkpoint_file(model, tmp_path / "last.ckpt")
    else:
        path = tmp_path / "last.generators.safetensors"
        save_generators(model, path)
        assert any(key.startswith("ema.copies.G_AB.") for key in generator_state_dict(model))
    images = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        averaged, raw = model.ema.copies["G_BA"](images), model.G_BA(images)
    translate = load_translator(path, "BtoA", channels_last=False)
    torch.testing.assert_close(translate(images), averaged)
    translate_raw = load_translator(path, "BtoA", channels_last=False, weights="raw")
    torch.testing.assert_close(translate_raw(images), raw)


def test_an_unknown_weights_choice_is_refused(sgd_cyclegan) -> None:
    with pytest.raises(ConfigError, match="weights='best'"):
        sgd_cyclegan().select_weights("best")

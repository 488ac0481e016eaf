"""Gradient clipping and accumulation under manual optimisation: what an update does with them."""

import pytest
import torch

from unpaired.errors import ConfigError

CLIP = 1e-3


def test_clipping_by_norm_bounds_the_update_of_each_side(tiny_cyclegan, batches, fit, sides):
    unclipped = tiny_cyclegan()
    clipped = tiny_cyclegan(grad_clip_val=CLIP)
    before = sides(clipped)
    for model in (unclipped, clipped):
        fit(model, batches(2, 2))
    # SGD with lr 1: the update is the gradient; the unclipped one is far larger than CLIP
    for start, end in zip(before, sides(unclipped), strict=True):
        assert (end - start).norm() > 10 * CLIP
    for start, end in zip(before, sides(clipped), strict=True):
        assert (end - start).norm().item() == pytest.approx(CLIP, rel=1e-4)


def test_clipping_by_value_bounds_every_element(tiny_cyclegan, batches, fit, sides):
    model = tiny_cyclegan(grad_clip_val=CLIP, grad_clip_algorithm="value")
    before = sides(model)
    fit(model, batches(2, 2))
    for start, end in zip(before, sides(model), strict=True):
        assert (end - start).abs().max().item() == pytest.approx(CLIP, rel=1e-4)


def test_accumulating_k_batches_updates_like_one_batch_k_times_larger(
    tiny_cyclegan, batches, fit, sides
):
    lr = 0.01  # with lr 1, float rounding grows past any tolerance
    runs = {
        "accumulated": (tiny_cyclegan(lr, accumulate_grad_batches=2), 1),
        "large batch": (tiny_cyclegan(lr), 2),
        "small batch": (tiny_cyclegan(lr), 1),
    }
    for model, batch_size in runs.values():
        fit(model, batches(4, batch_size))
    accumulated, large_batch, small_batch = (sides(model) for model, _ in runs.values())
    for got, expected, unaccumulated in zip(accumulated, large_batch, small_batch, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
        assert (unaccumulated - expected).abs().max() > 1e-3


def test_an_epoch_ends_on_an_update_and_step_schedulers_follow_the_updates(
    tiny_cyclegan, batches, fit
):
    halve_every_update = {
        "_target_": "torch.optim.lr_scheduler.StepLR",
        "_partial_": True,
        "step_size": 1,
        "gamma": 0.5,
    }
    model = tiny_cyclegan(
        accumulate_grad_batches=2, scheduler=halve_every_update, scheduler_interval="step"
    )
    trainer = fit(model, batches(3, 1))  # windows: batches 1-2, then batch 3 alone
    assert trainer.global_step == 4  # two updates of G and two of D
    optimizer_g, optimizer_d = model.optimizers()
    assert optimizer_g.param_groups[0]["lr"] == optimizer_d.param_groups[0]["lr"] == 0.25


@pytest.mark.parametrize(
    ("option", "culprit"),
    [
        ({"grad_clip_val": 0.0}, "model.grad_clip_val=0.0"),
        ({"grad_clip_algorithm": "max"}, "model.grad_clip_algorithm='max'"),
        ({"accumulate_grad_batches": 0}, "model.accumulate_grad_batches=0"),
    ],
)
def test_invalid_gradient_options_are_refused_by_name(tiny_cyclegan, option, culprit):
    with pytest.raises(ConfigError, match=culprit.replace(".", r"\.")):
        tiny_cyclegan(**option)

"""Gradient clipping and accumulation under manual optimisation: what an update does with them."""

import pytest
import torch
from hydra.utils import instantiate

from unpaired.errors import ConfigError

CLIP = 1e-3


def test_clipping_by_norm_bounds_the_update_of_each_side(
    sgd_cyclegan, fixed_batches, fit_one_epoch, sides
):
    unclipped = sgd_cyclegan()
    clipped = sgd_cyclegan(grad_clip_val=CLIP)
    before = sides(clipped)
    for model in (unclipped, clipped):
        fit_one_epoch(model, fixed_batches(2, 2))
    # SGD with lr 1: the update is the gradient; the unclipped one is far larger than CLIP
    for start, end in zip(before, sides(unclipped), strict=True):
        assert (end - start).norm() > 10 * CLIP
    for start, end in zip(before, sides(clipped), strict=True):
        assert (end - start).norm().item() == pytest.approx(CLIP, rel=1e-4)


def test_clipping_by_value_bounds_every_element(sgd_cyclegan, fixed_batches, fit_one_epoch, sides):
    model = sgd_cyclegan(grad_clip_val=CLIP, grad_clip_algorithm="value")
    before = sides(model)
    fit_one_epoch(model, fixed_batches(2, 2))
    for start, end in zip(before, sides(model), strict=True):
        assert (end - start).abs().max().item() == pytest.approx(CLIP, rel=1e-4)


def test_accumulating_k_batches_updates_like_one_batch_k_times_larger(
    sgd_cyclegan, fixed_batches, fit_one_epoch, sides
):
    lr = 0.01  # with lr 1, float rounding grows past any tolerance
    runs = {
        "accumulated": (sgd_cyclegan(lr, accumulate_grad_batches=2), 1),
        "large batch": (sgd_cyclegan(lr), 2),
        "small batch": (sgd_cyclegan(lr), 1),
    }
    for model, batch_size in runs.values():
        fit_one_epoch(model, fixed_batches(4, batch_size))
    accumulated, large_batch, small_batch = (sides(model) for model, _ in runs.values())
    for got, expected, unaccumulated in zip(accumulated, large_batch, small_batch, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
        assert (unaccumulated - expected).abs().max() > 1e-3


def test_an_epoch_ends_on_an_update_and_step_schedulers_follow_the_updates(
    sgd_cyclegan, fixed_batches, fit_one_epoch
):
    halve_every_update = {
        "_target_": "torch.optim.lr_scheduler.StepLR",
        "_partial_": True,
        "step_size": 1,
        "gamma": 0.5,
    }
    model = sgd_cyclegan(
        accumulate_grad_batches=2, scheduler=halve_every_update, scheduler_interval="step"
    )
    trainer = fit_one_epoch(
        model, fixed_batches(3, 1)
    )  # windows: fixed_batches 1-2, then batch 3 alone
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
def test_invalid_gradient_options_are_refused_by_name(sgd_cyclegan, option, culprit):
    with pytest.raises(ConfigError, match=culprit.replace(".", r"\.")):
        sgd_cyclegan(**option)


@pytest.mark.parametrize(
    ("model", "small"),
    [
        ("cyclegan", "model.generator.ngf=8"),
        ("cut", "model.generator.ngf=8"),
        ("fastcut", "model.generator.ngf=8"),
        ("pix2pix", "model.generator.ngf=8"),
        ("unit", "model.generator.dim=8"),
        ("munit", "model.generator.dim=8"),
    ],
)
def test_every_method_takes_the_gradient_options_from_its_config(compose_train, model, small):
    cfg = compose_train(
        [
            f"model={model}",
            small,
            "model.grad_clip_val=0.5",
            "model.grad_clip_algorithm=value",
            "model.accumulate_grad_batches=3",
        ]
    )
    module = instantiate(cfg.model, _recursive_=False, _convert_="all")
    assert (module.grad_clip_val, module.grad_clip_algorithm, module.accumulate_grad_batches) == (
        0.5,
        "value",
        3,
    )

"""The UNIT/MUNIT authors' domain-invariant perceptual loss (``vgg_w``) in both methods."""

import pytest
import torch
from torch import nn

from unpaired.errors import ConfigError
from unpaired.models import UNIT

TINY = {
    "unit": ("model.generator.dim=8", "model.generator.n_res=1"),
    "munit": (
        "model.generator.dim=8",
        "model.generator.n_res=1",
        "model.generator.mlp_dim=16",
        "model.generator.style_dim=4",
    ),
}
DISCRIMINATOR = ("model.discriminator.dim=8", "model.discriminator.n_layer=2")


def batch() -> dict[str, torch.Tensor]:
    # 32x32: VGG-16's relu5_3 is 2x2 there (at 16x16 it is 1x1, and instance norm zeroes it)
    generator = torch.Generator().manual_seed(1)
    return {name: torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1 for name in "AB"}


@pytest.mark.parametrize("method", ["unit", "munit"])
def test_vgg_w_adds_the_perceptual_loss_of_each_translation_against_its_input(
    build_model, method: str
) -> None:
    torch.manual_seed(0)
    model = build_model(
        method, *TINY[method], *DISCRIMINATOR, "model.vgg_w=2.0", "model.vgg_weights=random"
    )
    images = batch()
    outputs = model.generate(images)
    loss, terms = model.generator_loss(images, outputs)

    # the authors' compute_vgg_loss: InstanceNorm2d(512, affine=False) of both, mean squared diff
    norm = nn.InstanceNorm2d(512, affine=False)

    def by_hand(translation: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        fake, real = (norm(model.vgg((x + 1) / 2)["relu5_3"]) for x in (translation, source))
        return ((fake - real) ** 2).mean()

    expected_a = 2.0 * by_hand(outputs["fake_A"], images["B"])  # their loss_gen_vgg_a: x_ba, x_b
    expected_b = 2.0 * by_hand(outputs["fake_B"], images["A"])
    assert terms["vgg_A"].item() == pytest.approx(expected_a.item(), rel=1e-5)
    assert terms["vgg_B"].item() == pytest.approx(expected_b.item(), rel=1e-5)
    assert expected_a.item() > 0 and expected_b.item() > 0
    others = sum(value for key, value in terms.items() if key not in ("G", "vgg_A", "vgg_B"))
    assert loss.item() == pytest.approx((others + expected_a + expected_b).item(), rel=1e-5)
    # the loss network is frozen and in no optimiser; the decoder making fake_B gets its gradient
    assert not any(p.requires_grad for p in model.vgg.parameters())
    terms["vgg_B"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.gen_B.parameters())
    optimisers, _ = model.configure_optimizers()
    optimised = {id(p) for o in optimisers for g in o.param_groups for p in g["params"]}
    assert not optimised & {id(p) for p in model.vgg.parameters()}


@pytest.mark.parametrize("method", ["unit", "munit"])
def test_at_vgg_w_zero_no_vgg_is_built_and_no_term_added(build_model, method: str) -> None:
    model = build_model(method, *TINY[method], *DISCRIMINATOR)  # the authors' default: 0
    assert model.vgg is None
    images = batch()
    _, terms = model.generator_loss(images, model.generate(images))
    assert not [key for key in terms if key.startswith("vgg")]


def test_a_negative_vgg_w_is_refused(model_arguments) -> None:
    with pytest.raises(ConfigError, match=r"model\.vgg_w must be >= 0"):
        UNIT(**model_arguments("unit", *TINY["unit"], *DISCRIMINATOR, "model.vgg_w=-1"))

import math

import pytest
import torch
from torch import nn

from unpaired.errors import ConfigError
from unpaired.losses import GAN_MODES, AdversarialLoss, gradient_penalty

PRED = torch.tensor([[[[0.5, -1.0], [2.0, 0.0]]]])  # mean 0.375


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_lsgan_is_mean_squared_distance_to_the_label():
    loss = AdversarialLoss("lsgan")
    values = [0.5, -1.0, 2.0, 0.0]
    assert loss.real(PRED).item() == pytest.approx(sum((v - 1) ** 2 for v in values) / 4)
    assert loss.fake(PRED).item() == pytest.approx(sum(v**2 for v in values) / 4)
    assert loss.generator(PRED).item() == pytest.approx(loss.real(PRED).item())


def test_vanilla_is_binary_cross_entropy_on_logits():
    loss = AdversarialLoss("vanilla")
    values = [0.5, -1.0, 2.0, 0.0]
    real = sum(-math.log(sigmoid(v)) for v in values) / 4
    fake = sum(-math.log(1 - sigmoid(v)) for v in values) / 4
    assert loss.real(PRED).item() == pytest.approx(real)
    assert loss.fake(PRED).item() == pytest.approx(fake)
    assert loss.generator(PRED).item() == pytest.approx(real)


def test_hinge():
    loss = AdversarialLoss("hinge")
    values = [0.5, -1.0, 2.0, 0.0]
    assert loss.real(PRED).item() == pytest.approx(sum(max(0, 1 - v) for v in values) / 4)
    assert loss.fake(PRED).item() == pytest.approx(sum(max(0, 1 + v) for v in values) / 4)
    assert loss.generator(PRED).item() == pytest.approx(-0.375)


def test_wgan_terms_are_signed_means():
    loss = AdversarialLoss("wgangp")
    assert loss.real(PRED).item() == pytest.approx(-0.375)
    assert loss.fake(PRED).item() == pytest.approx(0.375)
    assert loss.generator(PRED).item() == pytest.approx(-0.375)


@pytest.mark.parametrize("mode", GAN_MODES)
def test_multiscale_predictions_are_summed_over_scales(mode):
    loss = AdversarialLoss(mode)
    small = torch.randn(2, 1, 3, 3)
    assert loss.fake([PRED, small]).item() == pytest.approx(
        loss.fake(PRED).item() + loss.fake(small).item(), rel=1e-6
    )


def test_unknown_mode_names_the_key_and_the_choices():
    with pytest.raises(ConfigError, match=r"model.gan_mode='lsgn'.*lsgan, vanilla, hinge, wgangp"):
        AdversarialLoss("lsgn")


def test_gradient_penalty_of_a_linear_critic_matches_its_weight_norm():
    # D(x) = sum(w * x): the gradient is w everywhere, so the penalty is weight * (|w| - 1)^2.
    critic = nn.Conv2d(3, 1, kernel_size=4, bias=False)
    real, fake = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    norm = critic.weight.norm().item()
    penalty = gradient_penalty(critic, real, fake, weight=10.0)
    assert penalty.item() == pytest.approx(10.0 * (norm - 1) ** 2, rel=1e-5)


def test_gradient_penalty_weighs_10_by_default_and_sums_the_scales_of_a_multiscale_critic():
    # two scales D_k(x) = c_k * sum(x): the gradient of their sum is (c_1 + c_2) everywhere
    def critic(x: torch.Tensor) -> list[torch.Tensor]:
        return [0.5 * x.sum(dim=(1, 2, 3)), 0.25 * x.sum(dim=(1, 2, 3))]

    real, fake = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    norm = (0.5 + 0.25) * math.sqrt(3 * 4 * 4)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(10 * (norm - 1) ** 2)


def test_gradient_penalty_trains_the_critic():
    critic = nn.Sequential(nn.Conv2d(3, 4, 3), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3))
    penalty = gradient_penalty(critic, torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8))
    penalty.backward()
    # Biases cannot change the input gradient of a conv net with a piecewise-linear activation
    # except through the activation pattern; the weights must receive a gradient.
    weights = [m.weight for m in critic if isinstance(m, nn.Conv2d)]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)


class SquaredNorm(nn.Module):
    """D(x) = sum(x^2) / 2 per image, whose input gradient is x itself: where the penalty is
    evaluated decides its value (a linear critic's gradient is the same everywhere)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.pow(2).flatten(1).sum(1)


def test_gradient_penalty_is_evaluated_at_random_interpolates_of_real_and_fake():
    real, fake = torch.randn(6, 3, 4, 4), torch.randn(6, 3, 4, 4) + 2
    torch.manual_seed(3)
    alpha = torch.rand(6, 1, 1, 1)  # the draw the penalty makes from the same seed
    mixed = alpha * real + (1 - alpha) * fake
    expected = 10.0 * ((mixed.flatten(1).norm(dim=1) - 1) ** 2).mean()
    torch.manual_seed(3)
    penalty = gradient_penalty(SquaredNorm(), real, fake, weight=10.0)
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)
    at_real = 10.0 * ((real.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert abs(penalty.item() - at_real.item()) > 1.0  # the scenario tells the two apart


def test_gradient_penalty_is_measured_under_inference_mode_as_lightning_validates():
    critic = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Conv2d(4, 1, 3))
    real, fake = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    torch.manual_seed(0)
    trained = gradient_penalty(critic, real, fake)
    torch.manual_seed(0)
    with torch.inference_mode():
        measured = gradient_penalty(critic, real.clone(), fake.clone())
    assert measured.item() == pytest.approx(trained.item(), rel=1e-6)
    assert not measured.requires_grad

"""The style-transfer losses against hand computations on small tensors."""

import pytest
import torch

from unpaired.losses.style import (
    adaptive_instance_norm,
    content_loss,
    gram_matrix,
    gram_style_loss,
    instance_normalized_perceptual_loss,
    mean_std,
    mean_std_style_loss,
    total_variation,
)


def test_gram_matrix_is_normalised_by_channels_times_positions() -> None:
    # one item, 2 channels, 1x2 positions: rows (1, 2) and (3, 4)
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    expected = torch.tensor([[[1 + 4, 3 + 8], [3 + 8, 9 + 16]]]) / (2 * 1 * 2)
    assert torch.equal(gram_matrix(features), expected)


def test_gram_style_loss_sums_the_layers_mse_against_one_style_for_the_batch() -> None:
    a = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]]).repeat(2, 1, 1, 1)
    target = torch.zeros(1, 2, 2)
    per_layer = gram_matrix(a).pow(2).mean()  # (5^2 + 11^2 + 11^2 + 25^2) / 16 / 4
    assert per_layer == pytest.approx((25 + 121 + 121 + 625) / 16 / 4)
    assert gram_style_loss([a, a], [target, target]) == pytest.approx(2 * per_layer.item())


def test_mean_std_uses_the_unbiased_variance_plus_eps() -> None:
    features = torch.tensor([[[[1.0, 3.0], [5.0, 7.0]]]])  # mean 4, unbiased variance 20/3
    mean, std = mean_std(features, eps=1e-5)
    assert mean.shape == std.shape == (1, 1, 1, 1)
    assert mean.item() == pytest.approx(4.0)
    assert std.item() == pytest.approx((20 / 3 + 1e-5) ** 0.5, rel=1e-6)
    _, std_big_eps = mean_std(features, eps=1.0)
    assert std_big_eps.item() == pytest.approx((20 / 3 + 1) ** 0.5, rel=1e-6)


def test_adain_gives_the_content_the_style_statistics() -> None:
    content = torch.randn(2, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    style = 3 + 2 * torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    out = adaptive_instance_norm(content, style)
    out_mean, out_std = mean_std(out, eps=0)
    style_mean, style_std = mean_std(style)
    torch.testing.assert_close(out_mean, style_mean)
    _, c_std = mean_std(content)
    # the content's normalised pattern, rescaled: std ratio sqrt(var/(var+eps)) from the eps
    expected_std = style_std * torch.sqrt(c_std.pow(2) - 1e-5) / c_std
    torch.testing.assert_close(out_std, expected_std)


def test_mean_std_style_loss_is_mse_of_means_plus_mse_of_stds() -> None:
    a = torch.tensor([[[[1.0, 3.0]], [[0.0, 0.0]]]])  # means (2, 0), stds (sqrt(2+e), sqrt(e))
    b = torch.tensor([[[[2.0, 2.0]], [[1.0, 1.0]]]])  # means (2, 1), stds (sqrt(e), sqrt(e))
    eps = 1e-5
    means = ((2 - 2) ** 2 + (0 - 1) ** 2) / 2
    stds = (((2 + eps) ** 0.5 - eps**0.5) ** 2 + 0) / 2
    assert mean_std_style_loss([a], [b]).item() == pytest.approx(means + stds, rel=1e-6)
    assert mean_std_style_loss([a, a], [b, b]).item() == pytest.approx(2 * (means + stds), rel=1e-6)


def test_content_loss_is_the_mean_squared_difference() -> None:
    a, b = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 0.0, 3.0, 8.0])
    assert content_loss(a, b).item() == pytest.approx((4 + 16) / 4)


def test_total_variation_sums_the_mean_squared_neighbour_differences() -> None:
    image = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])
    horizontal = ((1 - 0) ** 2 + (5 - 3) ** 2) / 2
    vertical = ((3 - 0) ** 2 + (5 - 1) ** 2) / 2
    assert total_variation(image).item() == pytest.approx(horizontal + vertical)
    assert total_variation(torch.ones(1, 3, 4, 4)).item() == 0


def test_vgg_w_perceptual_loss_ignores_per_channel_scale_and_shift() -> None:
    """The UNIT/MUNIT loss compares instance-normalised features: a per-channel affine change
    of one side (a domain's colour cast in feature space) costs nothing, a spatial change does."""
    features = torch.randn(2, 4, 6, 6, generator=torch.Generator().manual_seed(2))
    scaled = 3 * features + 5
    assert instance_normalized_perceptual_loss(scaled, features).item() < 1e-8
    flipped = features.flip(-1)
    assert instance_normalized_perceptual_loss(flipped, features).item() > 0.1
    # by hand for one channel: (x - mean) / sqrt(biased var + 1e-5)
    x = torch.tensor([[[[0.0, 2.0]]]])
    normalised = (x - 1) / (1 + 1e-5) ** 0.5
    expected = (normalised - torch.zeros(1)).pow(2).mean()
    loss = instance_normalized_perceptual_loss(x, torch.zeros(1, 1, 1, 2))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)

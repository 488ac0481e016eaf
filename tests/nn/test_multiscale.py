import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.errors import ConfigError
from unpaired.nn import MultiScaleDiscriminator


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def conv(c_in: int, c_out: int, k: int) -> int:
    """Weights and bias of a k x k convolution."""
    return c_in * c_out * k * k + c_out


def multiscale_formula(input_nc: int, dim: int, n_layer: int, num_scales: int) -> int:
    """Per scale: a 4x4 conv to dim, n_layer - 1 channel-doubling 4x4 convs, a 1x1 conv to 1."""
    per_scale = conv(input_nc, dim, 4)
    for _ in range(n_layer - 1):
        per_scale += conv(dim, dim * 2, 4)
        dim *= 2
    per_scale += conv(dim, 1, 1)
    return num_scales * per_scale


def test_authors_configuration_has_the_formula_parameter_count() -> None:
    expected = multiscale_formula(input_nc=3, dim=64, n_layer=4, num_scales=3)
    assert expected == 8_271_171  # the count documented in conf/model/discriminator/multiscale.yaml
    assert n_params(MultiScaleDiscriminator()) == expected


@pytest.mark.parametrize(("dim", "n_layer", "num_scales"), [(8, 3, 2), (16, 2, 4), (4, 1, 1)])
def test_other_sizes_follow_the_formula(dim: int, n_layer: int, num_scales: int) -> None:
    net = MultiScaleDiscriminator(input_nc=1, dim=dim, n_layer=n_layer, num_scales=num_scales)
    assert n_params(net) == multiscale_formula(1, dim, n_layer, num_scales)


def test_each_scale_has_n_layer_stride_2_convs_leaky_relu_and_no_norm() -> None:
    net = MultiScaleDiscriminator(dim=8)
    for cnn in net.cnns:
        convs = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
        assert [c.stride for c in convs] == [(2, 2)] * 4 + [(1, 1)]
        assert sum(isinstance(m, nn.ReflectionPad2d) for m in cnn.modules()) == 4
        slopes = {m.negative_slope for m in cnn.modules() if isinstance(m, nn.LeakyReLU)}
        assert slopes == {0.2}
        assert not any(isinstance(m, nn.InstanceNorm2d | nn.BatchNorm2d) for m in cnn.modules())


def test_one_logit_map_per_scale_finest_first() -> None:
    net = MultiScaleDiscriminator(dim=4)
    outputs = net(torch.randn(2, 3, 128, 128))
    assert [o.shape for o in outputs] == [(2, 1, 8, 8), (2, 1, 4, 4), (2, 1, 2, 2)]


def test_coarser_scales_see_the_image_average_pooled() -> None:
    net = MultiScaleDiscriminator(dim=4, n_layer=2, num_scales=3)
    x = torch.randn(1, 3, 32, 32)
    outputs = net(x)
    once = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    twice = F.avg_pool2d(once, 3, stride=2, padding=1, count_include_pad=False)
    torch.testing.assert_close(outputs[1], net.cnns[1](once))
    torch.testing.assert_close(outputs[2], net.cnns[2](twice))


def test_smallest_image_is_accepted_and_one_pixel_less_is_a_clear_error() -> None:
    net = MultiScaleDiscriminator(dim=4)  # n_layer 4, 3 scales
    assert net.min_input_size == 61
    assert len(net(torch.randn(1, 3, 61, 61))) == 3
    with pytest.raises(ConfigError, match=r"60x60 are too small.*num_scales"):
        net(torch.randn(1, 3, 60, 60))


@pytest.mark.parametrize(("n_layer", "num_scales"), [(0, 3), (4, 0)])
def test_no_layer_or_no_scale_is_refused(n_layer: int, num_scales: int) -> None:
    with pytest.raises(ConfigError, match=f"n_layer={n_layer}, num_scales={num_scales}"):
        MultiScaleDiscriminator(n_layer=n_layer, num_scales=num_scales)

"""Anti-aliased down/up-sampling and the CUT layouts of the ResNet generator and the PatchGAN."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.nn import Downsample, PatchGANDiscriminator, ResnetGenerator, Upsample
from unpaired.nn.antialias import binomial_filter
from unpaired.nn.resnet import ResnetBlock


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_binomial_filter_3_is_the_normalised_outer_product_of_1_2_1() -> None:
    expected = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    assert torch.equal(binomial_filter(3), expected)
    assert binomial_filter(4).sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="filter size"):
        binomial_filter(8)


def test_downsample_matches_a_hand_computed_blur_with_reflect_padding() -> None:
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = Downsample(1)(x)
    # reflect padding by one pixel, 3x3 [1,2,1] x [1,2,1] / 16 blur, every second pixel
    padded = [[0.0] * 6 for _ in range(6)]
    reflect = [1, 0, 1, 2, 3, 2]  # padded index -> source index
    for i in range(6):
        for j in range(6):
            padded[i][j] = x[0, 0, reflect[i], reflect[j]].item()
    weights = [1, 2, 1]
    expected = torch.zeros(2, 2)
    for oi in range(2):
        for oj in range(2):
            total = sum(
                weights[a] * weights[b] * padded[2 * oi + a][2 * oj + b]
                for a in range(3)
                for b in range(3)
            )
            expected[oi, oj] = total / 16
    assert torch.allclose(out[0, 0], expected)


@pytest.mark.parametrize(("side", "expected"), [(8, 4), (7, 4), (5, 3), (32, 16)])
def test_downsample_halves_like_a_stride_2_conv_with_padding_1(side: int, expected: int) -> None:
    x = torch.randn(2, 5, side, side)
    assert Downsample(5)(x).shape == (2, 5, expected, expected)
    conv = nn.Conv2d(5, 5, kernel_size=3, stride=2, padding=1)
    assert conv(x).shape[-1] == expected


def test_upsample_is_bilinear_interpolation_and_doubles_the_size() -> None:
    # zero insertion + the [1,3,3,1] filter x 4 with replicate edges interpolates each new pixel
    # at 1/4 and 3/4 between its neighbours: exactly bilinear upsampling (half-pixel centres)
    x = torch.randn(2, 3, 5, 7)
    out = Upsample(3)(x)
    assert out.shape == (2, 3, 10, 14)
    expected = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("filt_size", [2, 3, 4, 5])
def test_upsample_doubles_the_size_with_even_and_odd_filters(filt_size: int) -> None:
    assert Upsample(2, filt_size=filt_size)(torch.randn(1, 2, 5, 6)).shape == (1, 2, 10, 12)


@pytest.mark.parametrize("layer", [Downsample(4), Upsample(4)])
def test_blur_keeps_constant_images_constant(layer: nn.Module) -> None:
    x = torch.full((1, 4, 8, 8), 0.3)
    assert torch.allclose(layer(x), torch.full_like(layer(x), 0.3))


@pytest.mark.parametrize("layer", [Downsample(4), Upsample(4)])
def test_blur_filters_are_buffers_named_as_the_authors(layer: nn.Module) -> None:
    assert n_params(layer) == 0
    assert list(layer.state_dict()) == ["filt"]
    assert layer.filt.shape[:2] == (4, 1)  # one filter per channel (depthwise)


def test_antialiased_resnet_9_has_the_authors_parameter_count() -> None:
    # CUT's generator: stride-1 convs replace the stride-2 ones (same weights), and Upsample +
    # 3x3 conv replaces each 3x3 transposed conv (same weights, same bias): 11,378,179 as CycleGAN's
    net = ResnetGenerator(antialias=True, antialias_up=True)
    assert n_params(net) == 11_378_179
    assert n_params(ResnetGenerator(norm="batch", antialias=True, antialias_up=True)) == 11_383_427


def test_default_resnet_layout_is_unchanged() -> None:
    net = ResnetGenerator()
    assert len(net.model) == 28
    assert not any(isinstance(m, Downsample | Upsample) for m in net.modules())
    assert net.model[4].stride == (2, 2)
    assert isinstance(net.model[19], nn.ConvTranspose2d)


def test_cut_patchnce_layers_index_the_authors_modules() -> None:
    net = ResnetGenerator(antialias=True, antialias_up=True)
    layers = net.model
    assert len(layers) == 32
    assert isinstance(layers[0], nn.ReflectionPad2d)  # 0: the padded input
    for index, (c_in, c_out) in {4: (64, 128), 8: (128, 256)}.items():  # the downsampling convs
        conv = layers[index]
        assert isinstance(conv, nn.Conv2d)
        assert (conv.in_channels, conv.out_channels, conv.stride) == (c_in, c_out, (1, 1))
        assert isinstance(layers[index + 3], Downsample)
    blocks = [i for i, m in enumerate(layers) if isinstance(m, ResnetBlock)]
    assert blocks == list(range(12, 21))
    assert (blocks[0], blocks[4]) == (12, 16)  # residual blocks 1 and 5
    assert isinstance(layers[21], Upsample) and isinstance(layers[25], Upsample)
    keys = set(net.state_dict())
    assert {"model.7.filt", "model.11.filt", "model.21.filt", "model.25.filt"} <= keys
    assert {"model.22.weight", "model.26.weight", "model.30.weight"} <= keys


@pytest.mark.parametrize(("antialias", "antialias_up"), [(True, False), (False, True)])
def test_antialias_options_are_independent(antialias: bool, antialias_up: bool) -> None:
    net = ResnetGenerator(ngf=4, n_blocks=1, antialias=antialias, antialias_up=antialias_up)
    assert any(isinstance(m, Downsample) for m in net.modules()) == antialias
    assert any(isinstance(m, Upsample) for m in net.modules()) == antialias_up
    x = torch.randn(2, 3, 20, 28)
    assert net(x).shape == x.shape


def test_antialiased_generator_keeps_the_size_and_backpropagates() -> None:
    net = ResnetGenerator(ngf=8, n_blocks=2, antialias=True, antialias_up=True)
    x = torch.randn(2, 3, 32, 48, requires_grad=True)
    y = net(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_antialiased_patchgan_has_the_same_parameters_and_map_size() -> None:
    net = PatchGANDiscriminator(antialias=True)
    assert n_params(net) == 2_764_737
    assert sum(isinstance(m, Downsample) for m in net.modules()) == 3
    assert all(m.stride == (1, 1) for m in net.modules() if isinstance(m, nn.Conv2d))
    small = PatchGANDiscriminator(ndf=4, antialias=True)
    with torch.no_grad():
        assert small(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    assert n_params(PatchGANDiscriminator(input_nc=6, norm="batch", antialias=True)) == 2_768_705


def test_a_filter_of_size_1_subsamples_without_blurring() -> None:
    x = torch.randn(1, 2, 6, 6)
    torch.testing.assert_close(Downsample(2, filt_size=1)(x), x[:, :, ::2, ::2])


def test_an_even_filter_pads_one_more_pixel_after_than_before() -> None:
    # filter 4: (4 - 1) // 2 = 1 pixel before and 4 // 2 = 2 after, as the authors' Downsample
    layer = Downsample(2, filt_size=4)
    x = torch.randn(1, 2, 6, 6)
    padded = F.pad(x, (1, 2, 1, 2), mode="reflect")
    expected = F.conv2d(padded, layer.filt, stride=2, groups=2)
    torch.testing.assert_close(layer(x), expected)


def test_zero_padding_blends_zeros_in_at_the_border_and_unknown_padding_is_named() -> None:
    out = Downsample(1, pad_type="zero")(torch.ones(1, 1, 4, 4))
    assert out[0, 0, 0, 0] < 1 and out[0, 0, -1, -1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown pad_type 'mirror'"):
        Downsample(1, pad_type="mirror")

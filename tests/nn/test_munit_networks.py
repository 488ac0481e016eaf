import pytest
import torch
from torch import nn

from unpaired.nn import AdaINGenerator
from unpaired.nn.blocks import AdaptiveInstanceNorm2d, LayerNorm
from unpaired.nn.munit import MLP, StyleEncoder


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def content_encoder_formula(input_nc: int, dim: int, n_down: int, n_res: int) -> int:
    """7x7 conv; stride-2 4x4 convs doubling; residual blocks of two 3x3 convs (instance norm
    without affine: no parameters)."""
    total = conv(input_nc, dim, 7)
    for _ in range(n_down):
        total += conv(dim, 2 * dim, 4)
        dim *= 2
    return total + n_res * 2 * conv(dim, dim, 3)


def adain_decoder_formula(output_nc: int, dim: int, n_up: int, n_res: int) -> int:
    """AdaIN residual blocks (no own parameters); per upsampling a 5x5 conv halving and a layer
    norm with per-channel gamma and beta; 7x7 conv to the image."""
    total = n_res * 2 * conv(dim, dim, 3)
    for _ in range(n_up):
        total += conv(dim, dim // 2, 5) + 2 * (dim // 2)
        dim //= 2
    return total + conv(dim, output_nc, 7)


def style_encoder_formula(input_nc: int, dim: int, style_dim: int) -> int:
    """7x7 conv; 4 stride-2 4x4 convs (the first two doubling); 1x1 conv to the code."""
    return (
        conv(input_nc, dim, 7)
        + conv(dim, 2 * dim, 4)
        + conv(2 * dim, 4 * dim, 4)
        + 2 * conv(4 * dim, 4 * dim, 4)
        + conv(4 * dim, style_dim, 1)
    )


def mlp_formula(style_dim: int, mlp_dim: int, bottleneck: int, n_res: int) -> int:
    """3 linear layers to a scale and a shift for each of the 2 AdaIN layers of every block."""
    n_adain = n_res * 2 * 2 * bottleneck
    return linear(style_dim, mlp_dim) + linear(mlp_dim, mlp_dim) + linear(mlp_dim, n_adain)


def adain_generator_formula(input_nc=3, dim=64, style_dim=8, n_down=2, n_res=4, mlp_dim=256):
    bottleneck = dim * 2**n_down
    return (
        content_encoder_formula(input_nc, dim, n_down, n_res)
        + adain_decoder_formula(input_nc, bottleneck, n_down, n_res)
        + style_encoder_formula(input_nc, dim, style_dim)
        + mlp_formula(style_dim, mlp_dim, bottleneck, n_res)
    )


def test_authors_generator_has_the_formula_parameter_count() -> None:
    net = AdaINGenerator()
    assert n_params(net.enc_content) == content_encoder_formula(3, 64, 2, 4) == 5_385_856
    assert n_params(net.dec) == adain_decoder_formula(3, 256, 2, 4) == 5_754_627
    assert n_params(net.enc_style) == style_encoder_formula(3, 64, 8) == 2_764_936
    assert n_params(net.mlp) == mlp_formula(8, 256, 256, 4) == 1_120_768
    assert n_params(net) == adain_generator_formula() == 15_026_187


def test_small_generator_follows_the_formula() -> None:
    net = AdaINGenerator(input_nc=1, dim=8, style_dim=3, n_downsample=1, n_res=2, mlp_dim=16)
    assert n_params(net) == adain_generator_formula(1, 8, 3, 1, 2, 16)


@pytest.fixture
def generator() -> AdaINGenerator:
    torch.manual_seed(0)
    return AdaINGenerator(dim=8, style_dim=4, n_res=2, mlp_dim=16)


def test_codes_and_decoding_have_the_documented_shapes(generator: AdaINGenerator) -> None:
    images = torch.rand(2, 3, 32, 48) * 2 - 1
    content, style = generator.encode(images)
    assert content.shape == (2, 32, 8, 12)  # dim * 4 channels at a quarter of the size
    assert style.shape == (2, 4) and generator.style_dim == 4  # MUNIT draws codes of this size
    decoded = generator.decode(content, style)
    assert decoded.shape == images.shape
    assert decoded.abs().max() <= 1
    assert generator.mlp(style).shape == (2, 2 * 2 * 2 * 32)  # scale+shift, 2 AdaIN per block


def test_same_style_code_gives_the_same_image_and_another_code_another(
    generator: AdaINGenerator,
) -> None:
    content, _ = generator.encode(torch.randn(1, 3, 32, 32))
    style, other = torch.randn(2, 1, 4)
    first = generator.decode(content, style)
    torch.testing.assert_close(generator.decode(content, style), first, rtol=0, atol=0)
    assert (generator.decode(content, other) - first).abs().mean() > 1e-3


def test_style_applies_per_sample(generator: AdaINGenerator) -> None:
    content, _ = generator.encode(torch.randn(1, 3, 32, 32))
    styles = torch.randn(2, 4)
    both = generator.decode(content.expand(2, -1, -1, -1), styles)
    torch.testing.assert_close(both[1:], generator.decode(content, styles[1:]))


def test_decoder_runs_only_with_a_style_and_keeps_none_after_decoding(
    generator: AdaINGenerator,
) -> None:
    content, style = generator.encode(torch.randn(1, 3, 32, 32))
    generator.decode(content, style)
    layers = [m for m in generator.dec.modules() if isinstance(m, AdaptiveInstanceNorm2d)]
    assert len(layers) == 4 and all(m.scale is None and m.shift is None for m in layers)
    with pytest.raises(RuntimeError, match="no style set"):
        generator.dec(content)


def test_mlp_output_goes_to_shift_then_scale_of_each_adain_layer_in_order(
    generator: AdaINGenerator,
) -> None:
    captured = []
    first = next(m for m in generator.dec.modules() if isinstance(m, AdaptiveInstanceNorm2d))
    first.register_forward_pre_hook(lambda m, args: captured.append((m.shift, m.scale)))
    content, style = generator.encode(torch.randn(1, 3, 32, 32))
    generator.decode(content, style)
    params = generator.mlp(style)
    shift, scale = captured[0]
    torch.testing.assert_close(shift, params[:, :32])
    torch.testing.assert_close(scale, params[:, 32:64])


def test_adain_normalises_each_sample_and_channel_then_applies_its_style() -> None:
    x = torch.randn(2, 3, 5, 5) * 4 + 2
    layer = AdaptiveInstanceNorm2d(3)
    scale, shift = torch.rand(2, 3) + 0.5, torch.randn(2, 3)
    layer.set_style(scale, shift)
    out = layer(x)
    for n in range(2):
        for c in range(3):
            values = x[n, c]
            mean = values.mean()
            var = ((values - mean) ** 2).mean()  # biased, as instance norm
            expected = (values - mean) / torch.sqrt(var + 1e-5) * scale[n, c] + shift[n, c]
            torch.testing.assert_close(out[n, c], expected)


def test_layer_norm_uses_unbiased_std_over_chw_plus_eps_and_per_channel_affine() -> None:
    x = torch.randn(2, 3, 4, 4) * 3 - 1
    norm = LayerNorm(3)
    with torch.no_grad():
        norm.gamma.copy_(torch.tensor([0.5, 1.0, 2.0]))
        norm.beta.copy_(torch.tensor([0.0, -1.0, 3.0]))
    out = norm(x)
    for n in range(2):
        values = x[n].flatten().tolist()
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
        for c, (gamma, beta) in enumerate([(0.5, 0.0), (1.0, -1.0), (2.0, 3.0)]):
            expected = (x[n, c] - mean) / (std + 1e-5) * gamma + beta
            torch.testing.assert_close(out[n, c], expected)


def test_layer_norm_scale_starts_uniform_in_0_1_and_shift_at_0() -> None:
    norm = LayerNorm(256)
    assert norm.gamma.min() >= 0 and norm.gamma.max() <= 1 and norm.gamma.std() > 0.2
    assert torch.equal(norm.beta, torch.zeros(256))


def test_style_encoder_pools_globally() -> None:
    encoder = StyleEncoder(4, 3, 8, 5)
    assert encoder(torch.randn(2, 3, 32, 32)).shape == (2, 5)
    assert encoder(torch.randn(2, 3, 64, 96)).shape == (2, 5)  # any size gives one code


def test_mlp_has_no_activation_after_its_last_layer() -> None:
    mlp = MLP(4, 10, 16, 3)
    assert isinstance(mlp.model[-1], nn.Linear)
    assert sum(isinstance(m, nn.ReLU) for m in mlp.modules()) == 2
    assert mlp(torch.randn(2, 4, 1, 1)).shape == (2, 10)  # flattens (N, C, 1, 1) codes


def test_forward_reconstructs_an_image_from_its_own_codes(generator: AdaINGenerator) -> None:
    images = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(generator(images), generator.decode(*generator.encode(images)))


def test_every_convolution_pads_by_reflection_as_the_authors() -> None:
    net = AdaINGenerator(dim=8, style_dim=4, n_res=1, mlp_dim=16)
    pads = [m for m in net.modules() if isinstance(m, nn.ZeroPad2d | nn.ReflectionPad2d)]
    assert pads and all(isinstance(m, nn.ReflectionPad2d) for m in pads)


@pytest.mark.parametrize("n_downsample", [1, 3])
def test_inputs_must_be_a_multiple_of_two_to_the_downsamplings(n_downsample: int) -> None:
    net = AdaINGenerator(dim=4, style_dim=2, n_downsample=n_downsample, n_res=1, mlp_dim=8)
    assert net.size_multiple == 2**n_downsample
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 3, 32, 32)


def test_mlp_needs_two_layers_and_two_are_enough() -> None:
    assert len([m for m in MLP(4, 6, 8, n_layers=2).modules() if isinstance(m, nn.Linear)]) == 2
    with pytest.raises(ValueError, match="at least 2 layers, got 1"):
        MLP(4, 6, 8, n_layers=1)


def test_a_fresh_adain_layer_asks_for_a_style() -> None:
    with pytest.raises(RuntimeError, match=r"no style set; decode through AdaINGenerator\.decode"):
        AdaptiveInstanceNorm2d(4)(torch.randn(1, 4, 2, 2))

import pytest
import torch
from torch import nn

from unpaired.errors import ConfigError
from unpaired.nn import VAEGenerator
from unpaired.nn.unit import share_latent_blocks


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


def vae_formula(input_nc: int = 3, dim: int = 64, n_down: int = 2, n_res: int = 4) -> int:
    """Encoder: 7x7 conv, stride-2 4x4 convs doubling, residual blocks of two 3x3 convs (instance
    norm holds no parameters). Decoder: the same number of blocks, per upsampling a 5x5 conv
    halving plus a layer norm's gamma and beta, a 7x7 conv to the image."""
    encoder = conv(input_nc, dim, 7)
    for _ in range(n_down):
        encoder += conv(dim, 2 * dim, 4)
        dim *= 2
    blocks = n_res * 2 * conv(dim, dim, 3)
    decoder = blocks
    for _ in range(n_down):
        decoder += conv(dim, dim // 2, 5) + 2 * (dim // 2)
        dim //= 2
    decoder += conv(dim, input_nc, 7)
    return encoder + blocks + decoder


def test_authors_generator_has_the_formula_parameter_count() -> None:
    assert vae_formula() == 11_140_483  # documented in conf/model/generator/unit_vae.yaml
    assert n_params(VAEGenerator()) == vae_formula()


def test_small_generator_follows_the_formula() -> None:
    net = VAEGenerator(input_nc=1, dim=8, n_downsample=3, n_res=1)
    assert n_params(net) == vae_formula(1, 8, 3, 1)


def test_code_and_decoding_shapes() -> None:
    net = VAEGenerator(dim=8, n_res=2)
    images = torch.rand(2, 3, 32, 48) * 2 - 1
    code = net.encode(images)
    assert code.shape == (2, 32, 8, 12)
    decoded = net.decode(code)
    assert decoded.shape == images.shape and decoded.abs().max() <= 1
    assert net.size_multiple == 4


def test_by_default_the_domains_share_no_layer() -> None:
    a, b = VAEGenerator(dim=8, n_res=2), VAEGenerator(dim=8, n_res=2)
    shared = {id(p) for p in a.parameters()} & {id(p) for p in b.parameters()}
    assert not shared


def test_sharing_ties_the_blocks_next_to_the_latent_code_and_counts_them_once() -> None:
    a, b = VAEGenerator(dim=8, n_res=3), VAEGenerator(dim=8, n_res=3)
    share_latent_blocks(a, b, 2)
    assert b.enc.res_blocks[2] is a.enc.res_blocks[2] and b.enc.res_blocks[1] is a.enc.res_blocks[1]
    assert b.enc.res_blocks[0] is not a.enc.res_blocks[0]
    assert b.dec.res_blocks[0] is a.dec.res_blocks[0] and b.dec.res_blocks[1] is a.dec.res_blocks[1]
    assert b.dec.res_blocks[2] is not a.dec.res_blocks[2]
    block = 2 * conv(32, 32, 3)
    both = nn.ModuleList([a, b])
    assert n_params(both) == 2 * vae_formula(3, 8, 2, 3) - 2 * 2 * block


def test_shared_blocks_learn_from_both_domains() -> None:
    a, b = VAEGenerator(dim=8, n_res=1), VAEGenerator(dim=8, n_res=1)
    share_latent_blocks(a, b, 1)
    b(torch.randn(1, 3, 16, 16)).mean().backward()
    shared_weight = a.enc.res_blocks[0].model[0].conv.weight
    assert shared_weight.grad is not None and shared_weight.grad.abs().sum() > 0


def test_sharing_more_blocks_than_there_are_is_a_clear_error() -> None:
    a, b = VAEGenerator(dim=8, n_res=2), VAEGenerator(dim=8, n_res=2)
    with pytest.raises(ConfigError, match=r"n_shared_blocks=3 .* n_res \(2\)"):
        share_latent_blocks(a, b, 3)
    with pytest.raises(ConfigError, match=r"n_shared_blocks=-1 must be between 0"):
        share_latent_blocks(a, b, -1)


def test_sharing_no_block_is_allowed_and_leaves_the_domains_apart() -> None:
    a, b = VAEGenerator(dim=8, n_res=2), VAEGenerator(dim=8, n_res=2)
    share_latent_blocks(a, b, 0)
    assert not {id(p) for p in a.parameters()} & {id(p) for p in b.parameters()}


def test_every_convolution_pads_by_reflection_as_the_authors() -> None:
    net = VAEGenerator(dim=8, n_res=1)
    pads = [m for m in net.modules() if isinstance(m, nn.ZeroPad2d | nn.ReflectionPad2d)]
    assert pads and all(isinstance(m, nn.ReflectionPad2d) for m in pads)


@pytest.mark.parametrize("n_downsample", [1, 3])
def test_inputs_must_be_a_multiple_of_two_to_the_downsamplings(n_downsample: int) -> None:
    net = VAEGenerator(dim=4, n_downsample=n_downsample, n_res=1)
    assert net.size_multiple == 2**n_downsample

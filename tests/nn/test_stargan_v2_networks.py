"""StarGAN v2's networks: the authors' parameter counts in the paper settings, derived layer by
layer from their core/model.py (the outputs themselves are compared with theirs in
test_golden_outputs.py), and the per-domain heads."""

import pytest
import torch
from torch import nn

from unpaired.nn.stargan_v2 import (
    HighPass,
    MappingNetwork,
    StarGANv2Discriminator,
    StarGANv2Generator,
    StyleEncoder,
)


def conv(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    return c_in * c_out * k * k + (c_out if bias else 0)


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def res_block(c_in: int, c_out: int, normalize: bool) -> int:
    """ResBlk: conv 3x3 c_in->c_in, conv 3x3 c_in->c_out, two affine instance norms of c_in
    (when normalised), a 1x1 shortcut without bias when the widths differ."""
    shortcut = conv(c_in, c_out, 1, bias=False) if c_in != c_out else 0
    return conv(c_in, c_in, 3) + conv(c_in, c_out, 3) + (4 * c_in if normalize else 0) + shortcut


def adain_block(c_in: int, c_out: int, style: int) -> int:
    """AdainResBlk: conv c_in->c_out, conv c_out->c_out, AdaIN fcs style->2 c_in, style->2 c_out."""
    shortcut = conv(c_in, c_out, 1, bias=False) if c_in != c_out else 0
    adain = linear(style, 2 * c_in) + linear(style, 2 * c_out)
    return conv(c_in, c_out, 3) + conv(c_out, c_out, 3) + adain + shortcut


def widths(stages: int) -> list[tuple[int, int]]:
    """(in, out) of the downsampling blocks at 256 pixels: 64, 128, 256, 512, 512, ..."""
    pairs, width = [], 64
    for _ in range(stages):
        pairs.append((width, min(2 * width, 512)))
        width = min(2 * width, 512)
    return pairs


def generator_count(w_hpf: int) -> int:
    stages = 4 + (1 if w_hpf else 0)  # log2(256) - 4, one more with the high-pass skips
    total = conv(3, 64, 3) + 2 * 64 + conv(64, 3, 1)  # from_rgb, to_rgb (affine norm, 1x1 conv)
    for c_in, c_out in widths(stages):
        total += res_block(c_in, c_out, True) + adain_block(c_out, c_in, 64)
    return total + 2 * (res_block(512, 512, True) + adain_block(512, 512, 64))


def trunk_count() -> int:
    """3x3 conv to 64, six downsampling blocks (256 -> 4 pixels), a 4x4 conv 512 -> 512."""
    total = conv(3, 64, 3) + sum(res_block(i, o, False) for i, o in widths(6))
    return total + conv(512, 512, 4)


def mapping_count(domains: int) -> int:
    shared = linear(16, 512) + 3 * linear(512, 512)
    return shared + domains * (3 * linear(512, 512) + linear(512, 64))


def parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# The authors' numbers (their print_network on core/model.py at 256x256, style 64, latent 16),
# as printed when their networks are built with these arguments.
PAPER_SETTINGS = {
    "afhq": (3, 0, {"G": 33_892_995, "F": 3_259_072, "E": 20_949_760, "D": 20_852_803}),
    "celeba_hq": (2, 1, {"G": 43_467_395, "F": 2_438_272, "E": 20_916_928, "D": 20_852_290}),
}


@pytest.mark.parametrize("setting", sorted(PAPER_SETTINGS))
def test_parameter_counts_are_the_authors(setting: str) -> None:
    domains, w_hpf, counts = PAPER_SETTINGS[setting]
    derived = {
        "G": generator_count(w_hpf),
        "F": mapping_count(domains),
        "E": trunk_count() + domains * linear(512, 64),
        "D": trunk_count() + conv(512, domains, 1),
    }
    assert derived == counts
    ours = {
        "G": StarGANv2Generator(256, 64, w_hpf=w_hpf),
        "F": MappingNetwork(16, 64, domains),
        "E": StyleEncoder(256, 64, domains),
        "D": StarGANv2Discriminator(256, domains),
    }
    assert {name: parameters(net) for name, net in ours.items()} == counts


def test_each_image_gets_the_head_of_its_own_domain() -> None:
    torch.manual_seed(0)
    mapping = MappingNetwork(latent_dim=4, style_dim=3, num_domains=3, hidden_dim=8)
    encoder = StyleEncoder(img_size=16, style_dim=3, num_domains=3, dim_in=4, max_conv_dim=8)
    discriminator = StarGANv2Discriminator(img_size=16, num_domains=3, dim_in=4, max_conv_dim=8)
    z, x = torch.randn(3, 4), torch.randn(3, 3, 16, 16)
    y = torch.tensor([2, 0, 1])
    hidden = mapping.shared(z)
    for i, domain in enumerate(y.tolist()):
        torch.testing.assert_close(mapping(z, y)[i], mapping.unshared[domain](hidden)[i])
        h = encoder.shared(x).flatten(1)
        torch.testing.assert_close(encoder(x, y)[i], encoder.unshared[domain](h)[i])
        logits = discriminator.main(x).flatten(1)
        torch.testing.assert_close(discriminator(x, y)[i], logits[i, domain])


def test_high_pass_filter_is_the_authors_kernel_over_w_hpf() -> None:
    kernel = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]])
    torch.testing.assert_close(HighPass(2.0).filter, kernel / 2)
    flat = torch.ones(1, 2, 5, 5)
    assert HighPass(1.0)(flat)[..., 1:-1, 1:-1].abs().max() == 0  # no response to a constant


def test_the_generator_without_high_pass_has_no_filter_and_one_stage_less() -> None:
    plain, hpf = StarGANv2Generator(64, 8, 16, w_hpf=0), StarGANv2Generator(64, 8, 16, w_hpf=1)
    assert "hpf.filter" not in plain.state_dict() and "hpf.filter" in hpf.state_dict()
    assert len(hpf.encode) == len(plain.encode) + 1


def test_image_sizes_that_are_not_powers_of_two_are_refused() -> None:
    with pytest.raises(ValueError, match="power-of-two"):
        StarGANv2Generator(img_size=48)

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn
from torch.nn import functional as F

from unpaired.nn import MultiScaleDiscriminator, PatchGANDiscriminator, PixelDiscriminator

CONF = Path(__file__).parents[2] / "conf" / "model" / "discriminator"


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def patch_map_size(size: int, n_layers: int) -> int:
    """n_layers conv4x4 s2 p1, then two conv4x4 s1 p1."""
    for _ in range(n_layers):
        size = (size + 2 - 4) // 2 + 1
    return size - 2


@pytest.mark.parametrize(
    ("input_nc", "n_layers", "norm", "expected"),
    [
        (3, 3, "instance", 2_764_737),
        (3, 3, "batch", 2_765_633),
        (6, 3, "instance", 2_767_809),
        (6, 3, "batch", 2_768_705),
        (3, 1, "instance", 136_385),
        (3, 2, "instance", 662_977),
        (3, 4, "instance", 6_959_553),
        (3, 5, "instance", 11_154_369),
    ],
)
def test_patchgan_param_count(input_nc: int, n_layers: int, norm: str, expected: int) -> None:
    net = PatchGANDiscriminator(input_nc=input_nc, n_layers=n_layers, norm=norm)
    assert n_params(net) == expected


@pytest.mark.parametrize(("norm", "expected"), [("instance", 8_705), ("batch", 8_832)])
def test_pixel_param_count(norm: str, expected: int) -> None:
    assert n_params(PixelDiscriminator(norm=norm)) == expected


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4, 5])
def test_patchgan_map_size(n_layers: int) -> None:
    net = PatchGANDiscriminator(ndf=4, n_layers=n_layers)
    side = patch_map_size(128, n_layers)
    assert net(torch.randn(2, 3, 128, 128)).shape == (2, 1, side, side)


def test_patchgan_256_gives_30x30() -> None:
    assert patch_map_size(256, 3) == 30
    with torch.no_grad():
        out = PatchGANDiscriminator(ndf=8)(torch.randn(1, 3, 256, 256))
    assert out.shape == (1, 1, 30, 30)


def test_patchgan_has_no_sigmoid() -> None:
    net = PatchGANDiscriminator(ndf=8)
    assert isinstance(net.model[-1], nn.Conv2d)
    assert not any(isinstance(m, nn.Sigmoid) for m in net.modules())


def test_patchgan_state_dict_layout() -> None:
    keys = set(PatchGANDiscriminator(norm="batch").state_dict())
    assert {"model.0.weight", "model.0.bias", "model.2.weight", "model.3.running_mean"} <= keys
    assert {"model.11.weight", "model.11.bias"} <= keys
    assert "model.2.bias" not in keys


def test_pixel_discriminator_computes_the_authors_layers() -> None:
    # conv 1x1, LeakyReLU(0.2), conv 1x1, instance norm, LeakyReLU(0.2), conv 1x1
    torch.manual_seed(0)
    net = PixelDiscriminator(input_nc=3, ndf=4)
    first, second, last = (m for m in net.modules() if isinstance(m, nn.Conv2d))
    x = torch.randn(2, 3, 5, 5)
    hidden = F.leaky_relu(F.conv2d(x, first.weight, first.bias), 0.2)
    hidden = F.instance_norm(F.conv2d(hidden, second.weight, second.bias), eps=1e-5)
    hidden = F.leaky_relu(hidden, 0.2)
    torch.testing.assert_close(net(x), F.conv2d(hidden, last.weight, last.bias))


def test_pixel_keeps_size_and_layout() -> None:
    net = PixelDiscriminator(ndf=8)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 1, 32, 32)
    assert {"net.0.weight", "net.2.weight", "net.5.weight"} <= set(net.state_dict())


@pytest.mark.parametrize("make", [PatchGANDiscriminator, PixelDiscriminator])
def test_none_norm_keeps_conv_biases(make: type[nn.Module]) -> None:
    convs = [m for m in make(ndf=8, norm="none").modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(m.bias is not None for m in convs)


CONFIGS = {
    "patchgan": (PatchGANDiscriminator, 2_764_737),
    "patchgan_antialias": (PatchGANDiscriminator, 2_764_737),  # CUT's: the blur is a buffer
    "n_layers": (PatchGANDiscriminator, 2_764_737),
    "pixel": (PixelDiscriminator, 8_705),
    "multiscale": (MultiScaleDiscriminator, 8_271_171),
}


def test_every_discriminator_config_is_checked() -> None:
    assert {p.stem for p in CONF.glob("*.yaml")} == set(CONFIGS)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_discriminator_config_instantiates(name: str) -> None:
    cls, expected = CONFIGS[name]
    net = instantiate(OmegaConf.load(CONF / f"{name}.yaml"))
    assert type(net) is cls
    assert n_params(net) == expected


def test_n_layers_config_override() -> None:
    cfg = OmegaConf.load(CONF / "n_layers.yaml")
    cfg.n_layers = 5
    assert n_params(instantiate(cfg)) == 11_154_369

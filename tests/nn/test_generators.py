from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from unpaired.nn import AdaINGenerator, ResnetGenerator, UnetGenerator, VAEGenerator

CONF = Path(__file__).parents[2] / "conf" / "model" / "generator"


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(
    ("n_blocks", "norm", "expected"),
    [
        (9, "instance", 11_378_179),
        (9, "batch", 11_383_427),
        (6, "instance", 7_837_699),
        (6, "batch", 7_841_411),
    ],
)
def test_resnet_param_count(n_blocks: int, norm: str, expected: int) -> None:
    assert n_params(ResnetGenerator(n_blocks=n_blocks, norm=norm)) == expected


@pytest.mark.parametrize(
    ("num_downs", "norm", "expected"),
    [
        (8, "instance", 54_409_603),
        (8, "batch", 54_413_955),
        (7, "instance", 41_825_667),
        (7, "batch", 41_828_995),
    ],
)
def test_unet_param_count(num_downs: int, norm: str, expected: int) -> None:
    assert n_params(UnetGenerator(num_downs=num_downs, norm=norm)) == expected


@pytest.mark.parametrize("padding_type", ["reflect", "replicate", "zero"])
def test_resnet_keeps_size_and_tanh_range(padding_type: str) -> None:
    net = ResnetGenerator(ngf=8, n_blocks=2, padding_type=padding_type)
    x = torch.randn(2, 3, 32, 48) * 10
    y = net(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1
    assert ResnetGenerator.size_multiple == 4


def test_resnet_output_channels() -> None:
    net = ResnetGenerator(input_nc=1, output_nc=2, ngf=8, n_blocks=1)
    assert net(torch.randn(1, 1, 32, 32)).shape == (1, 2, 32, 32)


def test_resnet_state_dict_layout() -> None:
    keys = set(ResnetGenerator(norm="instance").state_dict())
    assert {"model.1.weight", "model.1.bias", "model.10.conv_block.1.weight"} <= keys
    assert {"model.10.conv_block.5.weight", "model.18.conv_block.5.weight"} <= keys
    assert "model.26.weight" in keys  # the final 7x7 conv: 10 + 9 blocks + 6 + pad
    assert not any(k.startswith("model.19.conv") for k in keys)


def test_resnet_dropout_moves_second_conv() -> None:
    keys = set(ResnetGenerator(ngf=8, n_blocks=1, use_dropout=True).state_dict())
    assert "model.10.conv_block.6.weight" in keys
    assert "model.10.conv_block.5.weight" not in keys


def test_resnet_batch_norm_layout() -> None:
    keys = set(ResnetGenerator(ngf=8, n_blocks=1, norm="batch").state_dict())
    assert "model.2.running_mean" in keys
    assert "model.1.bias" not in keys
    assert "model.18.bias" in keys  # the output conv (10 + 1 block + 6 + pad) keeps its bias


@pytest.mark.parametrize("make", [ResnetGenerator, UnetGenerator])
def test_none_norm_keeps_conv_biases(make: type[nn.Module]) -> None:
    net = make(ngf=8, norm="none")
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert convs and all(m.bias is not None for m in convs)


def test_unet_forward_backward_tanh() -> None:
    net = UnetGenerator(num_downs=5, ngf=8, use_dropout=True)
    assert net.size_multiple == 32
    x = torch.randn(2, 3, 32, 32) * 10
    y = net(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1
    y.sum().backward()  # the in-place activations must not break autograd


def test_unet_256_forward() -> None:
    net = UnetGenerator(num_downs=8, ngf=4, norm="instance").eval()
    assert net.size_multiple == 256
    with torch.no_grad():
        assert net(torch.randn(1, 3, 256, 256)).shape == (1, 3, 256, 256)


def test_unet_state_dict_layout() -> None:
    keys = set(UnetGenerator(num_downs=6, ngf=4, norm="batch", use_dropout=True).state_dict())
    assert {
        "model.model.0.weight",  # outermost down conv
        "model.model.3.weight",  # outermost up conv
        "model.model.3.bias",
        "model.model.1.model.1.weight",
        "model.model.1.model.2.running_mean",
        "model.model.1.model.3.model.3.model.3.model.1.weight",  # the dropout block
        "model.model.1.model.3.model.3.model.3.model.3.model.1.weight",  # innermost
    } <= keys
    assert "model.model.1.model.1.bias" not in keys


def test_unet_dropout_only_in_inner_512_blocks() -> None:
    net = UnetGenerator(num_downs=8, ngf=4, use_dropout=True)
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == 3
    assert not any(isinstance(m, nn.Dropout) for m in UnetGenerator(ngf=4).modules())


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="circular"):
        ResnetGenerator(padding_type="circular")
    with pytest.raises(ValueError, match="group"):
        UnetGenerator(ngf=4, norm="group")
    with pytest.raises(ValueError, match="num_downs"):
        UnetGenerator(num_downs=4)


CONFIGS = {
    "resnet_9blocks": (ResnetGenerator, 11_378_179),
    "resnet_9blocks_antialias": (ResnetGenerator, 11_378_179),  # CUT's: the blur is a buffer
    "resnet_6blocks": (ResnetGenerator, 7_837_699),
    "unet_256": (UnetGenerator, 54_409_603),
    "unet_128": (UnetGenerator, 41_825_667),
    "unit_vae": (VAEGenerator, 11_140_483),
    "munit_adain": (AdaINGenerator, 15_026_187),
}


def test_every_generator_config_is_checked() -> None:
    assert {p.stem for p in CONF.glob("*.yaml")} == set(CONFIGS)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generator_config_instantiates(name: str) -> None:
    cls, expected = CONFIGS[name]
    net = instantiate(OmegaConf.load(CONF / f"{name}.yaml"))
    assert type(net) is cls
    assert n_params(net) == expected


def test_a_resnet_without_residual_blocks_is_allowed() -> None:
    net = ResnetGenerator(ngf=4, n_blocks=0)
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="n_blocks"):
        ResnetGenerator(ngf=4, n_blocks=-1)


def test_a_unet_maps_its_input_channels_to_other_output_channels() -> None:
    net = UnetGenerator(input_nc=1, output_nc=3, num_downs=5, ngf=4)
    assert net(torch.randn(1, 1, 32, 32)).shape == (1, 3, 32, 32)

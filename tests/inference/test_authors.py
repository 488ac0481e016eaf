"""The authors' published generator files load into our networks, by key, strictly."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

from unpaired.data.padding import run_padded
from unpaired.errors import CheckpointError
from unpaired.inference import load_translator
from unpaired.nn import ResnetGenerator, UnetGenerator

NGF = 4


def conv(key: str, out_nc: int, in_nc: int, k: int, bias: bool = True) -> dict[str, tuple]:
    shapes = {f"{key}.weight": (out_nc, in_nc, k, k)}
    if bias:
        shapes[f"{key}.bias"] = (out_nc,)
    return shapes


def batch_norm(key: str, nc: int, counter: bool = True) -> dict[str, tuple]:
    names = ["weight", "bias", "running_mean", "running_var"]
    shapes = {f"{key}.{name}": (nc,) for name in names}
    if counter:
        shapes[f"{key}.num_batches_tracked"] = ()
    return shapes


def authors_resnet_keys(dropout: bool, batch: bool = False, counter: bool = True) -> dict:
    """Key -> shape of the authors' ResnetGenerator(3, 3, ngf=4, n_blocks=2), written out from
    their networks.py: [pad, conv7, norm, relu, (conv, norm, relu) x 2, blocks, (convT, norm,
    relu) x 2, pad, conv7, tanh]; a block is [pad, conv, norm, relu, (dropout), pad, conv, norm]."""
    bias = not batch
    keys = {**conv("model.1", NGF, 3, 7, bias)}
    norms = {"model.2": NGF, "model.5": 2 * NGF, "model.8": 4 * NGF}
    keys |= conv("model.4", 2 * NGF, NGF, 3, bias) | conv("model.7", 4 * NGF, 2 * NGF, 3, bias)
    second = 6 if dropout else 5
    for block in (10, 11):
        prefix = f"model.{block}.conv_block"
        keys |= conv(f"{prefix}.1", 4 * NGF, 4 * NGF, 3, bias)
        keys |= conv(f"{prefix}.{second}", 4 * NGF, 4 * NGF, 3, bias)
        norms |= {f"{prefix}.2": 4 * NGF, f"{prefix}.{second + 1}": 4 * NGF}
    # transposed convs: weight is in x out x k x k
    keys["model.12.weight"] = (4 * NGF, 2 * NGF, 3, 3)
    keys["model.15.weight"] = (2 * NGF, NGF, 3, 3)
    if bias:
        keys["model.12.bias"], keys["model.15.bias"] = (2 * NGF,), (NGF,)
    norms |= {"model.13": 2 * NGF, "model.16": NGF}
    keys |= conv("model.19", 3, NGF, 7)
    if batch:
        for key, nc in norms.items():
            keys |= batch_norm(key, nc, counter)
    return keys


def authors_unet_keys(num_downs: int = 5) -> dict:
    """Key -> shape of the authors' UnetGenerator(3, 3, num_downs, ngf=4), instance norm:
    outermost [down, sub, relu, up, tanh], middle [relu, down, norm, sub, relu, up, norm],
    innermost [relu, down, relu, up, norm]."""
    keys = conv("model.model.0", NGF, 3, 4) | {
        "model.model.3.weight": (2 * NGF, 3, 4, 4),
        "model.model.3.bias": (3,),
    }
    prefix, outer = "model.model.1", NGF
    for inner in (2 * NGF, 4 * NGF, 8 * NGF, *[8 * NGF] * (num_downs - 5)):
        keys |= conv(f"{prefix}.model.1", inner, outer, 4)
        keys[f"{prefix}.model.5.weight"] = (2 * inner, outer, 4, 4)
        keys[f"{prefix}.model.5.bias"] = (outer,)
        prefix, outer = f"{prefix}.model.3", inner
    keys |= conv(f"{prefix}.model.1", outer, outer, 4)
    keys[f"{prefix}.model.3.weight"] = (outer, outer, 4, 4)
    keys[f"{prefix}.model.3.bias"] = (outer,)
    return keys


def state_dict_of(shapes: dict, prefix: str = "") -> OrderedDict:
    generator = torch.Generator().manual_seed(0)
    state = OrderedDict()
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[prefix + key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[prefix + key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[prefix + key] = torch.randn(shape, generator=generator) * 0.1
    return state


def save(state: OrderedDict, path: Path) -> Path:
    state._metadata = OrderedDict({"": {"version": 1}})  # as their torch.save of a state_dict
    torch.save(state, path)
    return path


def check_loads_into(path: Path, reference: nn.Module, state: dict) -> nn.Module:
    """The file loads, strictly, into a generator equal to ``reference`` loaded by hand."""
    translator = load_translator(path)
    loaded = translator.module
    assert type(loaded) is type(reference)
    assert loaded.state_dict().keys() == reference.state_dict().keys()
    reference.load_state_dict(state, strict=True)
    reference.eval()
    images = torch.rand(2, 3, 13, 19) * 2 - 1  # odd sizes: padded and cropped back
    with torch.no_grad():
        expected = run_padded(reference, images)
    translated = translator(images)
    assert translated.shape == images.shape
    torch.testing.assert_close(translated, expected, rtol=0, atol=0)
    for key, value in state.items():
        assert torch.equal(loaded.state_dict()[key.removeprefix("module.")], value), key
    return loaded


@pytest.mark.parametrize("dropout", [False, True])
def test_resnet_file_loads_with_or_without_dropout(tmp_path: Path, dropout: bool) -> None:
    state = state_dict_of(authors_resnet_keys(dropout))
    path = save(state, tmp_path / "latest_net_G_A.pth")
    reference = ResnetGenerator(ngf=NGF, n_blocks=2, use_dropout=dropout)
    loaded = check_loads_into(path, reference, state)
    assert any(isinstance(m, nn.Dropout) for m in loaded.modules()) == dropout


def test_batch_norm_data_parallel_file_without_counters_loads(tmp_path: Path) -> None:
    state = state_dict_of(authors_resnet_keys(False, batch=True, counter=False), "module.")
    path = save(state, tmp_path / "old.pth")
    reference = ResnetGenerator(ngf=NGF, n_blocks=2, norm="batch")
    loaded = check_loads_into(path, reference, {k[7:]: v for k, v in state.items()})
    assert any(isinstance(m, nn.BatchNorm2d) for m in loaded.modules())


def test_unet_file_loads(tmp_path: Path) -> None:
    state = state_dict_of(authors_unet_keys())
    path = save(state, tmp_path / "facades_label2photo.pth")
    loaded = check_loads_into(path, UnetGenerator(num_downs=5, ngf=NGF, norm="instance"), state)
    assert loaded.size_multiple == 32


def test_a_state_dict_of_another_network_is_refused(tmp_path: Path) -> None:
    path = save(OrderedDict({"model.0.weight": torch.zeros(3, 3, 1, 1)}), tmp_path / "x.pth")
    with pytest.raises(CheckpointError, match="not a generator of the CycleGAN/pix2pix"):
        load_translator(path)


def test_generator_overrides_replace_what_cannot_be_seen(tmp_path: Path) -> None:
    path = save(state_dict_of(authors_unet_keys(num_downs=6)), tmp_path / "pix2pix.pth")
    assert load_translator(path).size_multiple == 64
    assert not any(isinstance(m, nn.Dropout) for m in load_translator(path).module.modules())
    with_dropout = load_translator(path, generator_overrides={"use_dropout": True}).module
    assert any(isinstance(m, nn.Dropout) for m in with_dropout.modules())

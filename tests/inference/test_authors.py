"""The authors' published generator files load into our networks, by key, strictly, and
translate as the authors' networks do.

The authors' state dicts here are those of the golden fixtures (tests/golden/README.md): their
own key names and shapes, the seeded weights; the translation of the fixture's input must be the
output their network computed. The hand-written U-Net layout below serves the tests of what the
loader cannot see (a depth no preset uses, dropout).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import golden  # tests/golden/golden.py (pytest puts tests/golden on the path)
from unpaired.data.padding import run_padded
from unpaired.errors import CheckpointError
from unpaired.inference import load_translator
from unpaired.nn import ResnetGenerator, UnetGenerator

NGF = 4


GOLDEN = {f"{p.parent.name}/{p.stem}": p for p in golden.fixture_paths()}


def conv(key: str, out_nc: int, in_nc: int, k: int, bias: bool = True) -> dict[str, tuple]:
    shapes = {f"{key}.weight": (out_nc, in_nc, k, k)}
    if bias:
        shapes[f"{key}.bias"] = (out_nc,)
    return shapes


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


def golden_file(fixture: Any, path: Path, prefix: str = "") -> tuple[Path, OrderedDict]:
    """The authors' state dict of a golden fixture (their keys, in their order, the seeded
    weights and their fixed buffers) saved as their ``save_networks`` would, as ``path``."""
    weights = fixture.weights()
    state = OrderedDict((prefix + key, weights[key]) for key in fixture.keys)
    return save(state, path), state


def check_translates_like_the_authors(path: Path, fixture: Any) -> nn.Module:
    """``path`` loads through our loader into a generator whose translation of the fixture's
    input is the authors' output; the returned module is the loaded generator."""
    translator = load_translator(path)
    fixture.check("out", translator(fixture.inputs()["x"]))
    return translator.module


#: The eval-mode generator fixtures: the authors' own ResNet (with or without dropout, instance
#: or batch norm), U-Net and CUT's anti-aliased ResNet.
GENERATOR_CASES = [
    case
    for case, path in GOLDEN.items()
    if case.split("/")[1].startswith(("resnet", "unet")) and not case.endswith("_train")
]


@pytest.mark.parametrize("case", GENERATOR_CASES)
def test_authors_file_translates_like_the_authors(tmp_path: Path, case: str) -> None:
    fixture = golden.Fixture(GOLDEN[case])
    path, _ = golden_file(fixture, tmp_path / "latest_net_G_A.pth")
    loaded = check_translates_like_the_authors(path, fixture)
    resnet = isinstance(loaded, ResnetGenerator)
    assert resnet == case.split("/")[1].startswith("resnet")
    if resnet:  # a U-Net's dropout holds no weights and cannot be seen in its file
        assert any(isinstance(m, nn.Dropout) for m in loaded.modules()) == ("dropout" in case)
    if isinstance(loaded, UnetGenerator):
        assert loaded.size_multiple == int(case.split("_")[1])


def test_batch_norm_data_parallel_file_without_counters_translates_like_the_authors(
    tmp_path: Path,
) -> None:
    """A DataParallel save (``module.`` keys) from before PyTorch 0.4.1 (no
    ``num_batches_tracked``): the prefix is removed and the counters are supplied."""
    fixture = golden.Fixture(GOLDEN["cyclegan/resnet_9blocks_batch"])
    weights = fixture.weights()
    state = OrderedDict(
        (f"module.{key}", weights[key])
        for key in fixture.keys
        if not key.endswith("num_batches_tracked")
    )
    loaded = check_translates_like_the_authors(save(state, tmp_path / "old.pth"), fixture)
    assert any(isinstance(m, nn.BatchNorm2d) for m in loaded.modules())


def test_old_instance_norm_statistics_are_dropped(tmp_path: Path) -> None:
    """Files saved by PyTorch < 0.4 hold running statistics for instance norms, which the
    authors' loader deletes: same translation as without them."""
    fixture = golden.Fixture(GOLDEN["cyclegan/resnet_9blocks"])
    batch = golden.Fixture(GOLDEN["cyclegan/resnet_9blocks_batch"])  # the same norm positions
    _, state = golden_file(fixture, tmp_path / "new.pth")
    for key, shape in batch.keys.items():
        if key.endswith((".running_mean", ".running_var")):
            state[key] = torch.zeros(shape) if key.endswith("mean") else torch.ones(shape)
    check_translates_like_the_authors(save(state, tmp_path / "old.pth"), fixture)


def test_any_image_size_is_padded_and_cropped_back(tmp_path: Path) -> None:
    fixture = golden.Fixture(GOLDEN["cyclegan/resnet_6blocks"])
    path, _ = golden_file(fixture, tmp_path / "latest_net_G_A.pth")
    translator = load_translator(path)
    images = torch.rand(2, 3, 13, 19) * 2 - 1
    translated = translator(images)
    assert translated.shape == images.shape
    with torch.no_grad():
        expected = run_padded(translator.module, images)
    torch.testing.assert_close(translated, expected, rtol=0, atol=0)


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

"""Intermediate features of a Sequential generator, by layer index."""

import pytest
import torch
from torch import nn

from unpaired.errors import ConfigError
from unpaired.nn import (
    ResnetGenerator,
    UnetGenerator,
    feature_channels,
    feature_layers,
    sequential_features,
)

CUT_LAYERS = [0, 4, 8, 12, 16]


def test_features_are_the_outputs_of_the_indexed_layers() -> None:
    net = ResnetGenerator(ngf=4, n_blocks=5, antialias=True, antialias_up=True)
    x = torch.randn(2, 3, 16, 16)
    features = sequential_features(net.model, x, CUT_LAYERS)
    for index, feature in zip(CUT_LAYERS, features, strict=True):
        assert torch.equal(feature, net.model[: index + 1](x))


def test_only_the_layers_up_to_the_last_requested_one_run() -> None:
    class Boom(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise AssertionError("ran past the last requested layer")

    layers = nn.Sequential(nn.Identity(), nn.ReLU(), nn.Tanh(), Boom())
    features = sequential_features(layers, torch.randn(1, 2), [0, 2])
    assert len(features) == 2


def test_feature_channels_of_cuts_generator() -> None:
    net = ResnetGenerator(antialias=True, antialias_up=True)
    assert feature_channels(net, CUT_LAYERS, input_nc=3, size=32) == [3, 128, 256, 256, 256]


def test_the_dry_run_leaves_batch_norm_statistics_and_the_mode_alone() -> None:
    net = ResnetGenerator(ngf=4, n_blocks=1, norm="batch")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert feature_channels(net, [1, 2, 4], input_nc=3, size=16) == [4, 4, 8]
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_feature_layers_accepts_a_sequential_or_a_model_attribute() -> None:
    seq = nn.Sequential(nn.Identity())
    assert feature_layers(seq) is seq
    net = ResnetGenerator(ngf=4, n_blocks=1)
    assert feature_layers(net) is net.model
    with pytest.raises(ConfigError, match=r"nn\.Sequential"):
        feature_layers(UnetGenerator(num_downs=5, ngf=4))
    with pytest.raises(ConfigError, match=r"Linear is not one"):
        feature_layers(nn.Linear(2, 2))  # no `model` at all


@pytest.mark.parametrize("ids", [[], [4, 0], [0, 0], [-1], [99]])
def test_bad_layer_ids_are_rejected_with_a_message(ids: list[int]) -> None:
    net = ResnetGenerator(ngf=4, n_blocks=1)
    with pytest.raises(ConfigError, match="layer"):
        feature_channels(net, ids, input_nc=3, size=16)


def test_the_last_layer_index_is_the_last_one_accepted() -> None:
    net = ResnetGenerator(ngf=4, n_blocks=1)
    n = len(feature_layers(net))
    assert len(feature_channels(net, [n - 1], input_nc=3, size=16)) == 1
    with pytest.raises(ConfigError, match=f"indices of the generator's {n} layers"):
        feature_channels(net, [n], input_nc=3, size=16)

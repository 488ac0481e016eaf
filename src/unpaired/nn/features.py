"""Intermediate features of a generator built as an ``nn.Sequential``, picked by layer index.

CUT's PatchNCE loss compares features of the generator's encoder at given indices of its
``model`` Sequential (the authors' ``netG(x, layers, encode_only=True)``). These helpers do the
same for any network whose layers are a Sequential, without touching the network's code.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from unpaired.errors import ConfigError


def feature_layers(net: nn.Module) -> nn.Sequential:
    """The Sequential whose layers are indexed: ``net`` itself, or its ``model`` attribute (the
    layout of :class:`~unpaired.nn.ResnetGenerator` and the authors' generators)."""
    if isinstance(net, nn.Sequential):
        return net
    layers = getattr(net, "model", None)
    if isinstance(layers, nn.Sequential):
        return layers
    raise ConfigError(
        f"features by layer index need a generator whose layers are an nn.Sequential (its "
        f"`model`), such as unpaired.nn.ResnetGenerator; {type(net).__name__} is not one. "
        "Choose model/generator=resnet_9blocks_antialias (or another ResNet generator)."
    )


def check_layer_ids(layers: nn.Sequential, layer_ids: Sequence[int]) -> list[int]:
    """``layer_ids`` as a list, checked: distinct, increasing, each an index of ``layers``."""
    ids = [int(i) for i in layer_ids]
    if not ids:
        raise ConfigError("the list of feature layers is empty; give at least one layer index.")
    if ids != sorted(set(ids)):
        raise ConfigError(f"feature layers {ids} must be distinct and in increasing order.")
    if ids[0] < 0 or ids[-1] >= len(layers):
        raise ConfigError(
            f"feature layers {ids} must be indices of the generator's {len(layers)} layers "
            f"(0 to {len(layers) - 1})."
        )
    return ids


def sequential_features(layers: nn.Sequential, x: Tensor, layer_ids: Sequence[int]) -> list[Tensor]:
    """The outputs of ``layers[i]`` for each ``i`` in ``layer_ids`` (increasing) on input ``x``.

    Only the layers up to the last requested one are run, as the authors' ``encode_only``. As in
    their code, a collected output is the layer's own tensor: a later in-place layer (ReLU(True))
    applied directly to it would change it. For the PatchNCE layers of the ResNet generator
    (padding, convolutions, residual blocks) the next layer never works in place.
    """
    wanted = set(layer_ids)
    last = max(wanted)
    features = []
    for index, layer in enumerate(layers):
        x = layer(x)
        if index in wanted:
            features.append(x)
        if index == last:
            break
    return features


def feature_channels(
    net: nn.Module, layer_ids: Sequence[int], input_nc: int, size: int = 64
) -> list[int]:
    """Channel counts of the features at ``layer_ids``, from one dry run on a zero image.

    The run happens in eval mode and without gradients, so batch-norm statistics are untouched;
    the network's mode is restored afterwards.
    """
    layers = feature_layers(net)
    ids = check_layer_ids(layers, layer_ids)
    parameter = next(net.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            x = torch.zeros(1, input_nc, size, size, device=device)
            features = sequential_features(layers, x, ids)
    finally:
        net.train(was_training)
    return [f.shape[1] for f in features]

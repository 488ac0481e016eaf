"""VGG feature networks for perceptual and style losses, addressed by the layer names researchers
use (``conv1_1``, ``relu2_2``, ``pool3``, ...).

Three networks, each with the input its anchors give it:

- ``vgg16`` and ``vgg19``: torchvision's ImageNet VGG-16/19 (Johnson et al.'s loss network, the
  Gatys et al. / PyTorch-tutorial network), on images in [0, 1] normalised with ImageNet's mean
  and standard deviation inside the module;
- ``vgg19_normalised``: the AdaIN authors' VGG-19 with weights rescaled so that each layer's mean
  activation is one (``vgg_normalised.pth``): a 1x1 convolution that does the colour conversion
  first, reflection padding, max pooling with ``ceil_mode``; it takes [0, 1] images as they are.

The network is truncated after the last layer asked for, frozen and kept in eval mode (a
``train()`` call on a parent leaves it in eval). ReLUs are not in place, so a ``conv`` output is
the convolution's own value, not its rectified one. Weights are read from a file or from torch
hub's checkpoint cache, never downloaded: a missing file raises one error with the URL, the file
name and where to put it (as :mod:`unpaired.metrics.inception`). ``weights="random"`` keeps
PyTorch's default initialisation (tests; nothing is read).

torchvision's ``vgg16()`` builds the classifier too (120 M parameters); only its feature layers
(:func:`torchvision.models.vgg.make_layers`) are built here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models import VGG16_Weights, VGG19_Weights
from torchvision.models.vgg import cfgs, make_layers

from unpaired.errors import ConfigError
from unpaired.utils.checkpoint import load_checkpoint
from unpaired.utils.pretrained import pretrained_file

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: The release of naoto0804/pytorch-AdaIN holding the AdaIN authors' normalised VGG-19 (converted
#: from their ``vgg_normalised.t7``).
VGG19_NORMALISED_URL = (
    "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/vgg_normalised.pth"
)
WEIGHT_URLS = {
    "vgg16": VGG16_Weights.IMAGENET1K_V1.url,
    "vgg19": VGG19_Weights.IMAGENET1K_V1.url,
    "vgg19_normalised": VGG19_NORMALISED_URL,
}
ARCHITECTURES = tuple(WEIGHT_URLS)
POOLINGS = ("max", "average")


def weights_file_name(arch: str) -> str:
    return WEIGHT_URLS[arch].rsplit("/", 1)[-1]


def _normalised_vgg19_layers() -> list[nn.Module]:
    """The layers of the AdaIN authors' ``vgg`` Sequential (their ``net.py``), in order."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    channels = 3
    for value in cfgs["E"]:
        if value == "M":
            layers.append(nn.MaxPool2d(2, 2, 0, ceil_mode=True))
        else:
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, value, 3), nn.ReLU()]
            channels = value
    return layers[:-1]  # theirs ends at relu5_4, without the last pooling


def _torchvision_layers(arch: str) -> list[nn.Module]:
    layers = list(make_layers(cfgs["D" if arch == "vgg16" else "E"]))
    return [nn.ReLU() if isinstance(layer, nn.ReLU) else layer for layer in layers]


def _average_pooling(layer: nn.Module) -> nn.Module:
    """An average pooling of a max pooling's window; any other layer as it is."""
    if not isinstance(layer, nn.MaxPool2d):
        return layer
    return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode)


def layer_names(layers: Sequence[nn.Module]) -> list[str]:
    """``conv<block>_<i>``, ``relu<block>_<i>``, ``pool<block>`` for each layer (padding layers
    get ``pad<block>_<i>``; the normalised VGG-19's leading 1x1 convolution ``preprocess``)."""
    names, block, index = [], 1, 1
    for position, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d) and layer.kernel_size == (1, 1) and position == 0:
            names.append("preprocess")
        elif isinstance(layer, nn.Conv2d):
            names.append(f"conv{block}_{index}")
        elif isinstance(layer, nn.ReflectionPad2d):
            names.append(f"pad{block}_{index}")
        elif isinstance(layer, nn.ReLU):
            names.append(f"relu{block}_{index}")
            index += 1
        else:
            names.append(f"pool{block}")
            block, index = block + 1, 1
    return names


class VGGFeatures(nn.Module):
    """The outputs of the named ``layers`` of a frozen VGG (see the module docstring).

    Args:
        arch: ``vgg16``, ``vgg19`` or ``vgg19_normalised``.
        layers: the layer names wanted (any order); the network ends at the last of them.
        weights: a weights file (torchvision's ``vgg16-397923af.pth`` / ``vgg19-dcbb9e9a.pth``
            state dicts, or ``vgg_normalised.pth``), None for torch hub's cache, or ``"random"``.
        option: the setting that names ``weights``, for the error when the file is missing.
        pooling: ``max`` (the networks as trained) or ``average``: each max pooling replaced by
            an average pooling of the same window, as Gatys et al. do ("slightly more appealing
            results"; the weights are the same).

    ``forward`` takes images in [0, 1] and returns ``{name: features}`` in network order.
    """

    def __init__(
        self,
        arch: str,
        layers: Sequence[str],
        weights: str | Path | None = None,
        option: str = "model.vgg_weights",
        pooling: str = "max",
    ) -> None:
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ConfigError(f"VGG arch={arch!r} is not one of {', '.join(ARCHITECTURES)}")
        if pooling not in POOLINGS:
            raise ConfigError(f"VGG pooling={pooling!r} is not one of {', '.join(POOLINGS)}")
        all_layers = (
            _normalised_vgg19_layers() if arch == "vgg19_normalised" else _torchvision_layers(arch)
        )
        if pooling == "average":
            all_layers = [_average_pooling(layer) for layer in all_layers]
        names = layer_names(all_layers)
        unknown = [name for name in layers if name not in names]
        if not layers or unknown:
            offered = ", ".join(n for n in names if not n.startswith("pad"))
            raise ConfigError(
                f"{arch} has no layer(s) {unknown or 'given'}; its layers are: {offered}"
            )
        self.arch = arch
        self.layers = tuple(sorted(set(layers), key=names.index))
        last = names.index(self.layers[-1])
        self.features = nn.Sequential(*all_layers[: last + 1])
        self.names = names[: last + 1]
        if weights != "random":
            url, name = WEIGHT_URLS[arch], weights_file_name(arch)
            self._load(pretrained_file(weights, name, url, f"the {arch} weights", option))
        self.normalises = arch != "vgg19_normalised"
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def _load(self, path: Path) -> None:
        state = load_checkpoint(path)
        prefix = "" if self.arch == "vgg19_normalised" else "features."
        wanted = {
            key: value
            for key, value in state.items()
            if key.startswith(prefix) and int(key[len(prefix) :].split(".")[0]) < len(self.names)
        }
        try:
            self.features.load_state_dict({k[len(prefix) :]: v for k, v in wanted.items()})
        except RuntimeError as error:
            raise ConfigError(
                f"{path} is not a {self.arch} state dict ({weights_file_name(self.arch)} from "
                f"{WEIGHT_URLS[self.arch]}): {str(error).splitlines()[0]}"
            ) from None

    def train(self, mode: bool = True) -> VGGFeatures:
        """Always eval: the loss network never changes (it has no batch norm or dropout, but a
        parent's ``train()`` should not say otherwise)."""
        return super().train(False)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        x = (images - self.mean) / self.std if self.normalises else images
        wanted = set(self.layers)
        features: dict[str, Tensor] = {}
        for name, layer in zip(self.names, self.features, strict=True):
            x = layer(x)
            if name in wanted:
                features[name] = x
        return features


def select(features: Mapping[str, Tensor], names: Sequence[str]) -> list[Tensor]:
    """``features[name]`` for each of ``names``, in that order."""
    return [features[name] for name in names]

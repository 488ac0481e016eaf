"""Building blocks of the UNIT/MUNIT networks, after the authors' ``Conv2dBlock`` family.

Every convolution here carries a bias and is preceded by an explicit padding layer; a block is
``pad -> conv -> norm -> activation``. Norms are named like the rest of the package
(``instance``, ``batch``, ``none``) plus MUNIT's ``layer`` (:class:`LayerNorm`) and ``adain``
(:class:`AdaptiveInstanceNorm2d`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from unpaired.errors import ConfigError
from unpaired.nn.norm import norm_layer

_PADDINGS: dict[str, Callable[[int], nn.Module]] = {
    "reflect": nn.ReflectionPad2d,
    "replicate": nn.ReplicationPad2d,
    "zero": nn.ZeroPad2d,
}

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "lrelu": lambda: nn.LeakyReLU(0.2, inplace=True),
    "prelu": nn.PReLU,
    "selu": lambda: nn.SELU(inplace=True),
    "tanh": nn.Tanh,
    "none": nn.Identity,
}

BLOCK_NORMS = ("instance", "batch", "layer", "adain", "none")


def padding_layer(pad_type: str, padding: int) -> nn.Module:
    """``reflect``, ``replicate`` or ``zero`` padding of ``padding`` pixels on every side."""
    if pad_type not in _PADDINGS:
        raise ConfigError(f"pad_type {pad_type!r} is unknown; use one of {', '.join(_PADDINGS)}.")
    return _PADDINGS[pad_type](padding)


def activation_layer(name: str) -> nn.Module:
    """``relu``, ``lrelu`` (slope 0.2), ``prelu``, ``selu``, ``tanh`` or ``none``."""
    if name not in _ACTIVATIONS:
        raise ConfigError(f"activation {name!r} is unknown; use one of {', '.join(_ACTIVATIONS)}.")
    return _ACTIVATIONS[name]()


def block_norm(kind: str, channels: int) -> nn.Module:
    """The normalisation of a block: one of :data:`BLOCK_NORMS` over ``channels`` channels."""
    if kind == "layer":
        return LayerNorm(channels)
    if kind == "adain":
        return AdaptiveInstanceNorm2d(channels)
    if kind not in BLOCK_NORMS:
        raise ConfigError(f"norm {kind!r} is unknown; use one of {', '.join(BLOCK_NORMS)}.")
    return norm_layer(kind)(channels)


class LayerNorm(nn.Module):
    """MUNIT's layer norm: each sample is normalised over (C, H, W) as ``(x - mean) / (std + eps)``
    with the *unbiased* standard deviation, then scaled and shifted per channel.

    This is the authors' own layer, not ``torch.nn.LayerNorm`` (which divides by
    ``sqrt(var + eps)`` with the biased variance and has an affine per element). Like theirs, the
    scale starts from U(0, 1) and the shift from 0.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.empty(num_features).uniform_())
        self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor) -> Tensor:
        per_sample = (-1,) + (1,) * (x.dim() - 1)
        flat = x.flatten(1)
        mean, std = flat.mean(1).view(per_sample), flat.std(1).view(per_sample)
        per_channel = (1, -1) + (1,) * (x.dim() - 2)
        normalised = (x - mean) / (std + self.eps)
        return normalised * self.gamma.view(per_channel) + self.beta.view(per_channel)


class AdaptiveInstanceNorm2d(nn.Module):
    """Instance norm whose per-sample scale and shift are given from outside (in MUNIT, by an MLP
    on the style code) through :meth:`set_style`, for the next forward passes.

    It holds no parameters; :class:`unpaired.nn.munit.AdaINGenerator` sets and clears the style
    around each decoding.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.scale: Tensor | None = None
        self.shift: Tensor | None = None

    def set_style(self, scale: Tensor | None, shift: Tensor | None) -> None:
        """Scale and shift of shape (N, num_features) for a batch of N, or None to clear them."""
        self.scale, self.shift = scale, shift

    def forward(self, x: Tensor) -> Tensor:
        if self.scale is None or self.shift is None:
            raise RuntimeError(
                "AdaptiveInstanceNorm2d has no style set; decode through "
                "AdaINGenerator.decode(content, style), which sets it."
            )
        normalised = F.instance_norm(x, eps=self.eps)
        return normalised * self.scale[:, :, None, None] + self.shift[:, :, None, None]


class ConvBlock(nn.Module):
    """``pad -> conv (with bias) -> norm -> activation``: the authors' ``Conv2dBlock``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        norm: str = "none",
        activation: str = "relu",
        pad_type: str = "zero",
    ) -> None:
        super().__init__()
        self.pad = padding_layer(pad_type, padding)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride)
        self.norm = block_norm(norm, out_channels)
        self.activation = activation_layer(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.norm(self.conv(self.pad(x))))


class ResBlock(nn.Module):
    """``x + block(x)`` with two 3x3 :class:`ConvBlock` (no activation after the second)."""

    def __init__(
        self, dim: int, norm: str = "instance", activation: str = "relu", pad_type: str = "zero"
    ) -> None:
        super().__init__()
        self.model = nn.Sequential(
            ConvBlock(dim, dim, 3, 1, 1, norm=norm, activation=activation, pad_type=pad_type),
            ConvBlock(dim, dim, 3, 1, 1, norm=norm, activation="none", pad_type=pad_type),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.model(x)


def res_blocks(n_blocks: int, dim: int, norm: str, activation: str, pad_type: str) -> nn.Sequential:
    """``n_blocks`` :class:`ResBlock` in a row (indexable, so single blocks can be shared)."""
    return nn.Sequential(*(ResBlock(dim, norm, activation, pad_type) for _ in range(n_blocks)))

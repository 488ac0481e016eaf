"""Anti-aliased down- and up-sampling (blur pooling, Zhang 2019) as the CUT authors use them.

CUT's generator and discriminator replace every stride-2 convolution by a stride-1 convolution
followed by :class:`Downsample` (a fixed binomial blur, then stride 2), and every transposed
convolution by :class:`Upsample` (a fixed transposed blur of stride 2) followed by a stride-1
convolution. The blur filters are buffers, not parameters: a network keeps its parameter count
when it is made anti-aliased. The buffer is named ``filt`` as in the authors' code, so their
published state dicts load by key.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

PAD_TYPES = ("reflect", "replicate", "zero")

_BINOMIAL = {
    1: [1.0],
    2: [1.0, 1.0],
    3: [1.0, 2.0, 1.0],
    4: [1.0, 3.0, 3.0, 1.0],
    5: [1.0, 4.0, 6.0, 4.0, 1.0],
    6: [1.0, 5.0, 10.0, 10.0, 5.0, 1.0],
    7: [1.0, 6.0, 15.0, 20.0, 15.0, 6.0, 1.0],
}


def binomial_filter(size: int) -> Tensor:
    """The ``size`` x ``size`` binomial blur kernel (outer product of binomial rows), sum 1."""
    if size not in _BINOMIAL:
        raise ValueError(f"filter size must be one of {tuple(_BINOMIAL)}, got {size}")
    row = torch.tensor(_BINOMIAL[size])
    kernel = row[:, None] * row[None, :]
    return kernel / kernel.sum()


def _pad_layer(pad_type: str, padding: tuple[int, int, int, int]) -> nn.Module:
    if pad_type == "reflect":
        return nn.ReflectionPad2d(padding)
    if pad_type == "replicate":
        return nn.ReplicationPad2d(padding)
    if pad_type == "zero":
        return nn.ZeroPad2d(padding)
    raise ValueError(f"unknown pad_type {pad_type!r}; expected one of {PAD_TYPES}")


class Downsample(nn.Module):
    """Blur with a ``filt_size`` binomial filter, then keep every ``stride``-th pixel.

    Each channel is blurred on its own (a depthwise convolution). The padding keeps the sampling
    grid of a stride-2 convolution with padding 1: a side of ``n`` pixels becomes ``ceil(n / 2)``.
    """

    def __init__(
        self, channels: int, pad_type: str = "reflect", filt_size: int = 3, stride: int = 2
    ) -> None:
        super().__init__()
        self.channels = channels
        self.filt_size = filt_size
        self.stride = stride
        before, after = (filt_size - 1) // 2, filt_size // 2  # (floor, ceil) of (size - 1) / 2
        self.pad = _pad_layer(pad_type, (before, after, before, after))
        kernel = binomial_filter(filt_size)[None, None].repeat(channels, 1, 1, 1)
        self.register_buffer("filt", kernel)

    def forward(self, x: Tensor) -> Tensor:
        if self.filt_size == 1:
            return x[:, :, :: self.stride, :: self.stride]
        return F.conv2d(self.pad(x), self.filt, stride=self.stride, groups=x.shape[1])

    def extra_repr(self) -> str:
        return f"{self.channels}, filt_size={self.filt_size}, stride={self.stride}"


class Upsample(nn.Module):
    """Double the size with a fixed transposed blur: zero insertion, then a ``filt_size``
    binomial filter scaled by ``stride**2`` so that a constant image stays constant.

    The defaults are the authors' (``filt_size=4``, replicate padding of 1 pixel): a side of ``n``
    pixels becomes ``2n``, exactly like the transposed convolution it replaces. With them the
    result equals bilinear interpolation by 2 (``align_corners=False``): each new pixel is 3/4 of
    its nearer and 1/4 of its farther neighbour.
    """

    def __init__(
        self, channels: int, pad_type: str = "replicate", filt_size: int = 4, stride: int = 2
    ) -> None:
        super().__init__()
        self.channels = channels
        self.filt_size = filt_size
        self.stride = stride
        self.filt_odd = filt_size % 2 == 1
        self.pad_size = (filt_size - 1) // 2
        self.pad = _pad_layer(pad_type, (1, 1, 1, 1))
        kernel = binomial_filter(filt_size) * stride**2
        self.register_buffer("filt", kernel[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        out = F.conv_transpose2d(
            self.pad(x),
            self.filt,
            stride=self.stride,
            padding=1 + self.pad_size,
            groups=x.shape[1],
        )[:, :, 1:, 1:]
        return out if self.filt_odd else out[:, :, :-1, :-1]

    def extra_repr(self) -> str:
        return f"{self.channels}, filt_size={self.filt_size}, stride={self.stride}"

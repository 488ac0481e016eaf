"""Images of any size through generators that need sides of a multiple of some size.

The ResNet generator needs multiples of 4 (two stride-2 downsamplings), the U-Net multiples of
``2 ** num_downs`` (256 for ``unet_256``); each declares it as ``size_multiple``. At inference,
:func:`run_padded` pads an image up to the next multiple, runs the generator and crops the
result back to the image's own size, so a 333x500 photo comes back as 333x500, untouched by any
resize.

The padding mirrors the image at its borders (reflection, as the generators' own padding
layers do), which continues edges and textures instead of adding a frame the generator would
translate as content. When the padding is wider than the image (a 100-pixel image padded to 256)
the reflection is repeated; a side of one pixel is repeated as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class Padding:
    """Pixels added on each side of an image."""

    left: int
    right: int
    top: int
    bottom: int


def padding_for(height: int, width: int, multiple: int) -> Padding:
    """The padding that makes both sides multiples of ``multiple``, split evenly (the extra pixel
    of an odd amount goes right and bottom)."""
    extra_h = -height % multiple
    extra_w = -width % multiple
    return Padding(extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2)


def pad_to_multiple(images: Tensor, multiple: int) -> tuple[Tensor, Padding]:
    """``images`` (``N x C x H x W``) padded by reflection to sides that are multiples of
    ``multiple``, and the padding to give :func:`crop_padding` afterwards."""
    padding = padding_for(images.shape[-2], images.shape[-1], multiple)
    padded = _mirror(images, padding.left, padding.right, dim=-1)
    return _mirror(padded, padding.top, padding.bottom, dim=-2), padding


def crop_padding(images: Tensor, padding: Padding) -> Tensor:
    """Undo :func:`pad_to_multiple` on images of the padded size."""
    height, width = images.shape[-2:]
    return images[..., padding.top : height - padding.bottom, padding.left : width - padding.right]


def run_padded(generator: nn.Module, images: Tensor) -> Tensor:
    """``generator(images)`` for images of any size: padded to the generator's
    ``size_multiple`` (1 if it declares none), run, cropped back to the input's size."""
    padded, padding = pad_to_multiple(images, getattr(generator, "size_multiple", 1))
    return crop_padding(generator(padded), padding)


def _mirror(images: Tensor, before: int, after: int, dim: int) -> Tensor:
    """Pad ``before``/``after`` pixels along ``dim`` (-1: width, -2: height) by reflection,
    repeated while the padding is wider than the image."""
    while before or after:
        size = images.shape[dim]
        if size == 1:  # nothing to reflect: repeat the one pixel
            return F.pad(images, _pad_arg(before, after, dim), mode="replicate")
        step_before, step_after = min(before, size - 1), min(after, size - 1)
        images = F.pad(images, _pad_arg(step_before, step_after, dim), mode="reflect")
        before, after = before - step_before, after - step_after
    return images


def _pad_arg(before: int, after: int, dim: int) -> tuple[int, int, int, int]:
    return (before, after, 0, 0) if dim == -1 else (0, 0, before, after)

"""Image preprocessing, reproducing the ``--preprocess`` options of the CycleGAN authors' code
(and one of pytorch/examples' ``fast_neural_style``).

==============================  ========================================================
``preprocess``                  geometry (the authors' ``get_transform``)
==============================  ========================================================
resize_and_crop                 square resize to ``load_size`` (bicubic), crop ``crop_size``
crop                            crop ``crop_size`` from the image as it is
scale_width                     width to ``load_size`` keeping the aspect ratio, height at
                                least ``crop_size``
scale_width_and_crop            scale_width, then crop ``crop_size``
none                            resize (bicubic) so that both sides are multiples of 4
scale_shorter_and_center_crop   shorter side to ``load_size`` keeping the aspect ratio
                                (bilinear), then the centre ``crop_size`` square, in
                                training too (the examples' ``Resize`` + ``CenterCrop``)
==============================  ========================================================

Training transforms crop at a random position and flip horizontally with probability 0.5 (when
``flip``). Evaluation transforms (``train=False``) never flip and crop at the centre, so they are
deterministic: an image and its ground truth go through the same geometry. They resize to
``crop_size`` where training resizes to ``load_size``, as the authors' test options do (their
``load_size`` defaults to ``crop_size`` at test time): a 256x256 test image of horse2zebra is
translated whole, not resized to 286 with a border cut off. Randomness comes from
the global torch RNG (the datasets seed it for each item, see :mod:`unpaired.data.seeding`).
An image smaller than the crop (possible only with ``crop``) is first resized up, keeping its
aspect ratio, until it covers the crop; the datasets warn about such images at start-up.

The result equals the authors' PIL + torchvision pipeline (Resize, RandomCrop, RandomHorizontalFlip,
ToTensor, Normalize; the same random draws in the same order) up to the rounding of the resize:
values differ by at most 2 of 255, in about 1% of the pixels. It is about twice as fast
(``unpaired-bench data``), because:

- the geometry runs on the uint8 tensor of the decoded image, kept in Pillow's interleaved
  (channels-last) layout, where torch's antialiased bicubic resize has a vectorised uint8 kernel
  (Pillow's bicubic resize is several times slower); crop and flip are a view and a small copy;
- conversion to float and scaling to [-1, 1] come last, once, on the cropped image.

Every step is a module-level class, so a transform pickles into spawned data-loader workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as F

from unpaired.data.io import convert_mode, image_mode
from unpaired.errors import ConfigError

PREPROCESS_OPTIONS = (
    "resize_and_crop",
    "crop",
    "scale_width",
    "scale_width_and_crop",
    "none",
    "scale_shorter_and_center_crop",
)

_BICUBIC = F.InterpolationMode.BICUBIC
_BILINEAR = F.InterpolationMode.BILINEAR


class Step(Protocol):
    """One geometric step on a uint8 image tensor ``C x H x W`` (any memory layout)."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor: ...


def resize(
    image: torch.Tensor, height: int, width: int, interpolation: F.InterpolationMode = _BICUBIC
) -> torch.Tensor:
    """Resize of a uint8 ``C x H x W`` tensor (bicubic unless told), antialiased when shrinking
    like PIL's."""
    if image.shape[-2:] == (height, width):
        return image
    return F.resize(image, [height, width], interpolation=interpolation, antialias=True)


class Resize:
    """Resize to ``height`` x ``width``, bicubic."""

    def __init__(self, height: int, width: int) -> None:
        self.height = height
        self.width = width

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return resize(image, self.height, self.width)


class ScaleWidth:
    """Width to ``width``, height to ``max(int(width * h / w), min_height)``, bicubic."""

    def __init__(self, width: int, min_height: int) -> None:
        self.width = width
        self.min_height = min_height

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        return resize(image, max(int(self.width * h / w), self.min_height), self.width)


class ScaleShorter:
    """Shorter side to ``size``, the longer to ``int(size * long / short)``, bilinear:
    torchvision's ``Resize(size)`` (its default interpolation)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        short, long = min(h, w), max(h, w)
        scaled = int(self.size * long / short)
        height, width = (self.size, scaled) if h <= w else (scaled, self.size)
        return resize(image, height, width, _BILINEAR)


class MakeMultipleOf:
    """Resize (bicubic) to the nearest multiples of ``base``: the authors' ``__make_power_2``.

    Python's ``round`` (half to even) is kept to match the authors' sizes exactly; the ``max``
    only keeps images smaller than ``base / 2`` from collapsing to zero.
    """

    def __init__(self, base: int = 4) -> None:
        self.base = base

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        return resize(image, self._nearest(h), self._nearest(w))

    def _nearest(self, side: int) -> int:
        return max(self.base, round(side / self.base) * self.base)


class Crop:
    """Square crop of side ``size``, at a random position (torch RNG) or at the centre.

    An image smaller than the crop is first resized up (bicubic, aspect ratio kept) so that its
    shorter side equals ``size``.
    """

    def __init__(self, size: int, random: bool) -> None:
        self.size = size
        self.random = random

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        if h < self.size or w < self.size:
            scale = self.size / min(h, w)
            h, w = max(self.size, round(h * scale)), max(self.size, round(w * scale))
            image = resize(image, h, w)
        top = self._offset(h - self.size)
        left = self._offset(w - self.size)
        return image[..., top : top + self.size, left : left + self.size]

    def _offset(self, slack: int) -> int:
        if self.random:
            return int(torch.randint(slack + 1, (1,)).item())
        return round(slack / 2.0)


class RandomHorizontalFlip:
    """Mirror left-right with probability 0.5 (one draw of the torch RNG, as torchvision's)."""

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.flip(-1) if torch.rand(1).item() < 0.5 else image


def to_uint8_tensor(image: Image.Image) -> torch.Tensor:
    """An 8-bit PIL image as a ``C x H x W`` uint8 tensor viewing Pillow's ``H x W x C`` layout."""
    pixels = torch.from_numpy(np.array(image))
    return pixels[None] if pixels.ndim == 2 else pixels.permute(2, 0, 1)


def to_unit_range(image: torch.Tensor) -> torch.Tensor:
    """uint8 ``C x H x W`` to a contiguous float tensor in [-1, 1]: ``(x / 255 - 0.5) * 2``.

    Bit for bit the values of torchvision's ``ToTensor`` + ``Normalize(0.5, 0.5)``. Making the
    uint8 tensor contiguous first is the cheapest way to change the layout (measured).
    """
    return image.contiguous().float().div_(255.0).sub_(0.5).mul_(2.0)


class ImageTransform:
    """A PIL image to a contiguous float tensor ``channels x H x W`` in [-1, 1].

    ``min_input_side``: images with a shorter side are resized up to fit the crop (0: none are);
    datasets use it to warn about such images before training.
    """

    def __init__(self, mode: str, steps: Sequence[Step], min_input_side: int = 0) -> None:
        self.mode = mode
        self.steps = list(steps)
        self.min_input_side = min_input_side

    def __call__(self, image: Image.Image) -> torch.Tensor:
        if image.mode != self.mode:
            image = convert_mode(image, self.mode)
        pixels = to_uint8_tensor(image)
        for step in self.steps:
            pixels = step(pixels)
        return to_unit_range(pixels)


def build_transform(
    preprocess: str,
    load_size: int,
    crop_size: int,
    flip: bool,
    train: bool,
    channels: int = 3,
) -> ImageTransform:
    """The transform of the authors' ``preprocess`` option (see the module docstring).

    Raises:
        ConfigError: unknown ``preprocess``, bad ``channels``, or ``crop_size > load_size``
            where the image is first resized to ``load_size``.
    """
    mode = image_mode(channels)
    _check_options(preprocess, load_size, crop_size)
    if not train:
        load_size = crop_size  # the authors' test options: resized to the crop, nothing cut off
    steps: list[Step] = []
    if preprocess == "resize_and_crop":
        steps.append(Resize(load_size, load_size))
    elif preprocess.startswith("scale_width"):
        steps.append(ScaleWidth(load_size, crop_size))
    elif preprocess == "scale_shorter_and_center_crop":
        steps.append(ScaleShorter(load_size))
    if preprocess.endswith("crop"):
        steps.append(
            Crop(crop_size, random=train and preprocess != "scale_shorter_and_center_crop")
        )
    if preprocess == "none":
        steps.append(MakeMultipleOf(4))
    if flip and train:
        steps.append(RandomHorizontalFlip())
    return ImageTransform(mode, steps, min_input_side=crop_size if preprocess == "crop" else 0)


def _check_options(preprocess: str, load_size: int, crop_size: int) -> None:
    if preprocess not in PREPROCESS_OPTIONS:
        raise ConfigError(
            f"data.preprocess={preprocess!r} is not an option; use one of "
            f"{', '.join(PREPROCESS_OPTIONS)}."
        )
    for key, value in (("load_size", load_size), ("crop_size", crop_size)):
        if value < 1:
            raise ConfigError(f"data.{key}={value}; set it to a positive number of pixels.")
    resized_first = ("resize_and_crop", "scale_width_and_crop", "scale_shorter_and_center_crop")
    if preprocess in resized_first and crop_size > load_size:
        raise ConfigError(
            f"data.crop_size={crop_size} is larger than data.load_size={load_size}, the size the "
            f"images are resized to before cropping with data.preprocess={preprocess}; set "
            "data.crop_size <= data.load_size."
        )

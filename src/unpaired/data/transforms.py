"""Image preprocessing, reproducing the ``--preprocess`` options of the CycleGAN authors' code.

=======================  ================================================================
``preprocess``           geometry (the authors' ``get_transform``)
=======================  ================================================================
resize_and_crop          square resize to ``load_size`` (bicubic), crop ``crop_size``
crop                     crop ``crop_size`` from the image as it is
scale_width              width to ``load_size`` keeping the aspect ratio, height at least
                         ``crop_size``
scale_width_and_crop     scale_width, then crop ``crop_size``
none                     resize (bicubic) so that both sides are multiples of 4
=======================  ================================================================

Training transforms crop at a random position and flip horizontally with probability 0.5 (when
``flip``). Evaluation transforms (``train=False``) never flip and crop at the centre, so they are
deterministic: an image and its ground truth go through the same geometry. Randomness comes from
the torch RNG, which Lightning seeds in every process and data-loader worker. Every step is a
module-level class, so a transform pickles into spawned data-loader workers.
"""

from collections.abc import Callable

import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

from unpaired.data.io import image_mode
from unpaired.errors import ConfigError, DataError

PREPROCESS_OPTIONS = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")

_BICUBIC = Image.Resampling.BICUBIC


class EnsureMode:
    """Convert to a PIL mode ("RGB", "L") unless the image already has it."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __call__(self, image: Image.Image) -> Image.Image:
        return image if image.mode == self.mode else image.convert(self.mode)


class ScaleWidth:
    """Width to ``width``, height to ``max(int(width * h / w), min_height)``, bicubic."""

    def __init__(self, width: int, min_height: int) -> None:
        self.width = width
        self.min_height = min_height

    def __call__(self, image: Image.Image) -> Image.Image:
        w, h = image.size
        size = (self.width, max(int(self.width * h / w), self.min_height))
        return image if size == image.size else image.resize(size, _BICUBIC)


class MakeMultipleOf:
    """Resize (bicubic) to the nearest multiples of ``base``: the authors' ``__make_power_2``.

    Python's ``round`` (half to even) is kept to match the authors' sizes exactly; the ``max``
    only keeps images smaller than ``base / 2`` from collapsing to zero.
    """

    def __init__(self, base: int = 4) -> None:
        self.base = base

    def __call__(self, image: Image.Image) -> Image.Image:
        w, h = image.size
        size = (self._nearest(w), self._nearest(h))
        return image if size == image.size else image.resize(size, _BICUBIC)

    def _nearest(self, side: int) -> int:
        return max(self.base, round(side / self.base) * self.base)


class Crop:
    """Square crop of side ``size``, at a random position (torch RNG) or at the centre."""

    def __init__(self, size: int, random: bool) -> None:
        self.size = size
        self.random = random

    def __call__(self, image: Image.Image) -> Image.Image:
        w, h = image.size
        if w < self.size or h < self.size:
            raise DataError(
                f"an image of {w}x{h} pixels is smaller than data.crop_size={self.size}; "
                "lower data.crop_size or use data.preprocess=resize_and_crop."
            )
        left = self._offset(w - self.size)
        top = self._offset(h - self.size)
        return image.crop((left, top, left + self.size, top + self.size))

    def _offset(self, slack: int) -> int:
        if self.random:
            return int(torch.randint(slack + 1, (1,)).item())
        return round(slack / 2.0)


def build_transform(
    preprocess: str,
    load_size: int,
    crop_size: int,
    flip: bool,
    train: bool,
    channels: int = 3,
) -> Callable[[Image.Image], torch.Tensor]:
    """Transform from a PIL image to a float tensor ``channels x H x W`` in [-1, 1].

    Raises:
        ConfigError: unknown ``preprocess``, bad ``channels``, or ``crop_size > load_size``
            where the image is first resized to ``load_size``.
    """
    mode = image_mode(channels)
    _check_options(preprocess, load_size, crop_size)
    steps: list[Callable] = [EnsureMode(mode)]
    if preprocess == "resize_and_crop":
        steps.append(transforms.Resize((load_size, load_size), InterpolationMode.BICUBIC))
    elif preprocess.startswith("scale_width"):
        steps.append(ScaleWidth(load_size, crop_size))
    if preprocess.endswith("crop"):
        steps.append(Crop(crop_size, random=train))
    if preprocess == "none":
        steps.append(MakeMultipleOf(4))
    if flip and train:
        steps.append(transforms.RandomHorizontalFlip())
    steps += [transforms.ToTensor(), transforms.Normalize([0.5] * channels, [0.5] * channels)]
    return transforms.Compose(steps)


def _check_options(preprocess: str, load_size: int, crop_size: int) -> None:
    if preprocess not in PREPROCESS_OPTIONS:
        raise ConfigError(
            f"data.preprocess={preprocess!r} is not an option; use one of "
            f"{', '.join(PREPROCESS_OPTIONS)}."
        )
    for key, value in (("load_size", load_size), ("crop_size", crop_size)):
        if value < 1:
            raise ConfigError(f"data.{key}={value}; set it to a positive number of pixels.")
    if preprocess in ("resize_and_crop", "scale_width_and_crop") and crop_size > load_size:
        raise ConfigError(
            f"data.crop_size={crop_size} is larger than data.load_size={load_size}, the size the "
            f"images are resized to before cropping with data.preprocess={preprocess}; set "
            "data.crop_size <= data.load_size."
        )

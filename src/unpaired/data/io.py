"""Finding, checking and reading image files: the one place that turns a file into a PIL image.

Images come as users have them, and :func:`load_image` normalises them to 8-bit "RGB" or "L":

- the EXIF orientation is applied, so a portrait photo taken with a rotated camera is upright;
- 16-bit images ("I;16", and "I", which Pillow uses for 16-bit PGM files) are scaled to 8 bits
  (value / 257, rounded), not clipped at 255 as Pillow's own conversion does;
- transparency (RGBA, LA, a palette or a colour key with transparency) is composited over a white
  background: the colour stored under a fully transparent pixel is arbitrary (often black), and
  white is what the image shows on a page. The authors' code drops the alpha channel instead;
  their data sets hold no transparent images, so this changes nothing for them;
- CMYK, palette, bilevel and every other mode go through Pillow's conversion.

A file that cannot be decoded (corrupt, truncated, not an image) raises :class:`BadImageError`
naming it. :func:`check_images` finds such files up front, cheaply enough to run at every start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from unpaired.errors import BadImageError, ConfigError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
)

_MODES = {1: "L", 3: "RGB"}
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_ORIENTATION_TAG = 0x0112
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})  # rotations by 90 degrees swap the sides


def image_mode(channels: int) -> str:
    """PIL mode for a number of channels: "L" for 1, "RGB" for 3."""
    if channels not in _MODES:
        raise ConfigError(f"data.channels is {channels}; set it to 1 (grayscale) or 3 (RGB).")
    return _MODES[channels]


def is_image_file(path: Path) -> bool:
    """Whether ``path`` names an image by its extension (any case), hidden files excluded."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def find_images(folder: Path, max_count: int | None = None) -> list[Path]:
    """Image files under ``folder`` (recursively), sorted, at most ``max_count`` of them.

    Sorting makes the order, and so the truncation by ``max_count``, the same on every machine.
    Files in hidden folders (``.git``, ``.ipynb_checkpoints``) and hidden files (macOS ``._x.jpg``)
    are skipped. A missing folder gives an empty list; callers decide whether that is an error.
    """
    paths = sorted(
        path
        for path in folder.rglob("*")
        if is_image_file(path)
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    return paths if max_count is None else paths[:max_count]


def load_image(path: Path, channels: int = 3) -> Image.Image:
    """Decode ``path`` upright (EXIF orientation) into an 8-bit "RGB" (3) or "L" (1) image.

    Raises:
        BadImageError: the file cannot be decoded.
    """
    mode = image_mode(channels)
    try:
        with Image.open(path) as image:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            return convert_mode(image, mode)
    # Pillow reports a damaged file with many exception types (OSError, SyntaxError, ValueError,
    # struct.error, zlib.error, ...), depending on the format and where the damage is; whatever
    # it raises while decoding one file is a property of that file.
    except Exception as error:
        raise _bad_image(path, _describe(error)) from error


def convert_mode(image: Image.Image, mode: str) -> Image.Image:
    """``image`` as an 8-bit image of ``mode`` (see the module docstring for the rules)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        image = _sixteen_to_eight_bits(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        image = _composite_on_white(image)
    return image if image.mode == mode else image.convert(mode)


def _sixteen_to_eight_bits(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float32)
    return Image.fromarray(np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8), "L")


def _composite_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _describe(error: Exception) -> str:
    """Why decoding failed, in a few words: the exception's type and message."""
    return f"{type(error).__name__}: {error}"


def _bad_image(path: Path, reason: str) -> BadImageError:
    """The error for an image that cannot be decoded, naming it and saying what to do."""
    return BadImageError(
        f"{path} cannot be decoded as an image ({reason}): the file is corrupt, truncated or not "
        "an image. Replace or delete it."
    )


def check_image(path: Path) -> tuple[int, int]:
    """Read ``path`` far enough to know it decodes; return its upright (width, height).

    Cheaper than decoding but as thorough where it matters: a PNG's chunk checksums are verified
    without decompressing, a JPEG is decoded at 1/8 scale (which still reads its whole entropy-coded
    stream, so truncation and most damage show), other formats are decoded in full.

    Raises:
        BadImageError: the file cannot be decoded.
    """
    try:
        return _inspect(path)
    except Exception as error:  # as in load_image: any failure while decoding is the file's
        raise _bad_image(path, _describe(error)) from error


def _inspect(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        width, height = image.size
        if image.getexif().get(_ORIENTATION_TAG) in _TRANSPOSING_ORIENTATIONS:
            width, height = height, width
        if image.format == "JPEG":
            image.draft(image.mode, (1, 1))
        if image.format != "PNG":
            image.load()
            return width, height
    with Image.open(path) as image:  # verify() must come first after opening
        image.verify()
    return width, height


@dataclass
class ImageCheck:
    """Result of :func:`check_images`: upright (width, height) of each good file, and why each
    bad file failed (:func:`_describe`)."""

    sizes: dict[Path, tuple[int, int]] = field(default_factory=dict)
    bad: dict[Path, str] = field(default_factory=dict)


def check_images(paths: Sequence[Path], threads: int | None = None) -> ImageCheck:
    """:func:`check_image` on every path, in ``threads`` threads (default: one per CPU, up to 16).

    Decoding releases the GIL, so threads scale with the cores.
    """
    threads = threads or min(16, os.cpu_count() or 1)
    result = ImageCheck()
    with ThreadPoolExecutor(threads) as pool:
        outcomes = pool.map(_size_or_reason, paths)
        for path, outcome in zip(paths, outcomes, strict=True):
            if isinstance(outcome, str):
                result.bad[path] = outcome
            else:
                result.sizes[path] = outcome
    return result


def _size_or_reason(path: Path) -> tuple[int, int] | str:
    try:
        return _inspect(path)
    except Exception as error:  # as in check_image
        return _describe(error)

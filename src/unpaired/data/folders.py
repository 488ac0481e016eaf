"""Folders of images as the datasets take them: found, checked and reported on at start-up.

Everything that can be wrong with a folder is found here, before any training: a missing folder,
one without images, images that cannot be decoded, images smaller than the crop. Bad images are
skipped with one warning listing them (``data.on_bad_image=warn``, the default) or stop the run
naming them (``error``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from unpaired.data.io import IMAGE_EXTENSIONS, check_images, find_images
from unpaired.errors import BadImageError, ConfigError, DataError

log = logging.getLogger(__name__)

BAD_IMAGE_POLICIES = ("warn", "error")
_NAMED_IN_ERROR = 5  # bad files named in the one-line error; the warning lists them all


def check_bad_image_policy(on_bad_image: str) -> str:
    """``on_bad_image`` if it is one of :data:`BAD_IMAGE_POLICIES`.

    Raises:
        ConfigError: it is not.
    """
    if on_bad_image not in BAD_IMAGE_POLICIES:
        raise ConfigError(
            f"data.on_bad_image={on_bad_image!r} is not an option; use 'warn' (skip images that "
            "cannot be decoded) or 'error' (stop at the first)."
        )
    return on_bad_image


def image_folder(
    folder: Path,
    *,
    max_count: int | None = None,
    on_bad_image: str = "warn",
    min_side: int = 0,
    hint: str = "",
) -> list[Path]:
    """The images under ``folder`` that decode, sorted (see :func:`unpaired.data.io.find_images`).

    Args:
        max_count: keep the first ``max_count`` images found (before dropping bad ones).
        on_bad_image: ``warn``: skip images that cannot be decoded, with one warning listing
            them; ``error``: raise naming them.
        min_side: warn about images whose shorter side is below it (they will be resized up).
        hint: appended to the error when the folder is missing or holds no images.

    Raises:
        DataError: the folder is missing, holds no image files, or none of them decodes.
        BadImageError: an image cannot be decoded and ``on_bad_image`` is ``error``.
    """
    check_bad_image_policy(on_bad_image)
    if not folder.is_dir():
        raise DataError(f"data folder {folder.absolute()} not found. {hint}".rstrip())
    paths = find_images(folder, max_count)
    if not paths:
        raise DataError(f"{_no_images(folder)} {hint}".rstrip())
    start = time.perf_counter()
    check = check_images(paths)
    log.info("checked %d images in %s in %.1f s", len(paths), folder, time.perf_counter() - start)
    if check.bad:
        _report_bad(folder, check.bad, len(paths), on_bad_image)
    good = [path for path in paths if path in check.sizes]
    if not good:
        raise DataError(f"none of the {len(paths)} images in {folder.absolute()} can be decoded.")
    small = {path: size for path, size in check.sizes.items() if min(size) < min_side}
    if small:
        listing = "\n".join(f"  {path} ({w}x{h})" for path, (w, h) in small.items())
        log.warning(
            "%d of %d images in %s are smaller than the crop (%d pixels) and will be resized up "
            "to cover it:\n%s",
            len(small),
            len(good),
            folder,
            min_side,
            listing,
        )
    return good


def _no_images(folder: Path) -> str:
    others = sorted(path for path in folder.rglob("*") if path.is_file())
    message = f"data folder {folder.absolute()} holds no image files"
    if others:
        extensions = ", ".join(sorted(IMAGE_EXTENSIONS))
        message += (
            f" (it holds {len(others)} other files, e.g. {others[0].name}; image files end in "
            f"{extensions}, in any letter case)"
        )
    return message + "."


def _report_bad(folder: Path, bad: dict[Path, str], total: int, on_bad_image: str) -> None:
    summary = f"{len(bad)} of {total} images in {folder} cannot be decoded"
    if on_bad_image == "error":
        named = "; ".join(
            f"{path} ({reason})" for path, reason in list(bad.items())[:_NAMED_IN_ERROR]
        )
        more = f"; and {len(bad) - _NAMED_IN_ERROR} more" if len(bad) > _NAMED_IN_ERROR else ""
        raise BadImageError(
            f"{summary}: {named}{more}. Replace or delete them, or set data.on_bad_image=warn "
            "to skip them."
        )
    listing = "\n".join(f"  {path}: {reason}" for path, reason in bad.items())
    log.warning("skipping %s (data.on_bad_image=warn):\n%s", summary, listing)

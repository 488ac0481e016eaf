"""Finding and reading image files: the one place that turns a file on disk into a PIL image."""

from pathlib import Path

from PIL import Image

from unpaired.errors import ConfigError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
)

_MODES = {1: "L", 3: "RGB"}


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
    """Read ``path`` into memory as an "RGB" (channels=3) or "L" (channels=1) image."""
    mode = image_mode(channels)
    with Image.open(path) as image:
        return image.convert(mode)

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unpaired.data.io import IMAGE_EXTENSIONS, find_images, load_image
from unpaired.errors import ConfigError


def _touch_image(path: Path, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (4, 3), 128).save(path)


def test_extensions_cover_the_common_formats() -> None:
    expected = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
    assert expected == set(IMAGE_EXTENSIONS)


def test_find_images_recursive_sorted_case_insensitive(tmp_path: Path) -> None:
    for name in ["b.png", "a.JPG", "sub/c.Jpeg", "sub/deeper/d.tiff"]:
        _touch_image(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "folder.png").mkdir()  # a folder with an image-like name
    _touch_image(tmp_path / "._hidden.png")
    _touch_image(tmp_path / ".ipynb_checkpoints" / "e.png")

    found = find_images(tmp_path)

    relative = [path.relative_to(tmp_path).as_posix() for path in found]
    assert relative == ["a.JPG", "b.png", "sub/c.Jpeg", "sub/deeper/d.tiff"]


def test_find_images_max_count_keeps_the_first_in_order(tmp_path: Path) -> None:
    for index in range(5):
        _touch_image(tmp_path / f"{index}.png")
    assert [path.name for path in find_images(tmp_path, max_count=2)] == ["0.png", "1.png"]
    assert len(find_images(tmp_path, max_count=None)) == 5


def test_find_images_in_missing_folder_is_empty(tmp_path: Path) -> None:
    assert find_images(tmp_path / "nope") == []


@pytest.mark.parametrize(
    ("source_mode", "channels", "mode"),
    [
        ("RGBA", 3, "RGB"),
        ("L", 3, "RGB"),
        ("P", 3, "RGB"),
        ("RGB", 1, "L"),
        ("L", 1, "L"),
    ],
)
def test_load_image_converts_mode(
    tmp_path: Path, source_mode: str, channels: int, mode: str
) -> None:
    path = tmp_path / "x.png"
    _touch_image(path, source_mode)
    image = load_image(path, channels)
    assert image.mode == mode
    assert image.size == (4, 3)
    assert np.asarray(image).shape[:2] == (3, 4)


def test_load_image_rejects_other_channel_counts(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    _touch_image(path)
    with pytest.raises(ConfigError, match=r"data\.channels"):
        load_image(path, channels=2)

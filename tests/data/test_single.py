"""One folder of images for inference: each image at its own size, with its name and size."""

import logging
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from unpaired.data.padding import run_padded
from unpaired.data.single import SingleImageDataset
from unpaired.data.transforms import build_transform
from unpaired.errors import BadImageError, DataError
from unpaired.nn.resnet import ResnetGenerator


def _image(path: Path, width: int, height: int, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(width * height).integers(0, 256, (height, width, 3), np.uint8)
    Image.fromarray(pixels).save(path, **options)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _image(tmp_path / "photos" / "b.png", 13, 7)
    _image(tmp_path / "photos" / "a.JPG", 20, 10)
    _image(tmp_path / "photos" / "trip" / "c.png", 9, 9)
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    return tmp_path / "photos"


def test_items_keep_name_size_and_pixels(folder: Path) -> None:
    dataset = SingleImageDataset(folder)
    assert [dataset[i]["path"] for i in range(len(dataset))] == ["a.JPG", "b.png", "trip/c.png"]
    item = dataset[1]
    assert item["size"].tolist() == [7, 13]
    assert tuple(item["image"].shape) == (3, 7, 13)  # no resize by default
    pixels = np.asarray(Image.open(folder / "b.png"), dtype=np.float32)
    expected = torch.from_numpy(pixels).permute(2, 0, 1) / 127.5 - 1
    assert torch.allclose(item["image"], expected, atol=1e-6)


def test_a_transform_changes_the_image_not_the_recorded_size(folder: Path) -> None:
    transform = build_transform("resize_and_crop", 16, 16, flip=True, train=False, channels=1)
    dataset = SingleImageDataset(folder, transform, channels=1)
    item = dataset[0]
    assert tuple(item["image"].shape) == (1, 16, 16)
    assert item["size"].tolist() == [10, 20]


def test_rotated_photo_reports_its_upright_size(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to display
    _image(tmp_path / "phone.png", 12, 5, exif=exif)
    item = SingleImageDataset(tmp_path)[0]
    assert item["size"].tolist() == [12, 5] and tuple(item["image"].shape) == (3, 12, 5)


def test_odd_sizes_go_through_a_generator_and_come_back(folder: Path) -> None:
    generator = ResnetGenerator(ngf=4, n_blocks=1).eval()
    with torch.no_grad():
        for batch in DataLoader(SingleImageDataset(folder), batch_size=1):
            out = run_padded(generator, batch["image"])
            assert out.shape[-2:] == batch["image"].shape[-2:]
            assert out.shape[-2:] == tuple(batch["size"][0].tolist())


def test_bad_file_is_skipped_or_stops_the_start(folder: Path, caplog: pytest.LogCaptureFixture):
    broken = folder / "broken.png"
    broken.write_bytes((folder / "b.png").read_bytes()[:40])
    with caplog.at_level(logging.WARNING):
        dataset = SingleImageDataset(folder)
    assert len(dataset) == 3 and str(broken) in caplog.text
    with pytest.raises(BadImageError, match=re.escape(str(broken))):
        SingleImageDataset(folder, on_bad_image="error")


def test_file_broken_after_the_start_raises_rather_than_mislabel(folder: Path) -> None:
    dataset = SingleImageDataset(folder)
    (folder / "b.png").write_bytes(b"")
    with pytest.raises(BadImageError, match=r"b\.png"):
        dataset[1]


def test_missing_or_imageless_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'nope'} not found")):
        SingleImageDataset(tmp_path / "nope")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.md").write_text("#")
    with pytest.raises(DataError, match=r"docs holds no image files \(it holds 1 other"):
        SingleImageDataset(tmp_path / "docs")


def test_one_file_is_a_dataset_of_that_image(folder: Path) -> None:
    dataset = SingleImageDataset(folder / "trip" / "c.png")
    assert len(dataset) == 1
    assert dataset.folder == folder / "trip"
    assert dataset[0]["path"] == "c.png"


def test_one_broken_file_is_refused_by_name(folder: Path) -> None:
    broken = folder / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    with pytest.raises(BadImageError, match=re.escape(str(broken))):
        SingleImageDataset(broken)

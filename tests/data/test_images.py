"""Images as users have them: every format and mode, rotated photos, broken files."""

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from unpaired.data.datamodule import UnpairedDataModule
from unpaired.data.io import check_image, check_images, load_image
from unpaired.data.transforms import build_transform
from unpaired.data.unaligned import UnalignedDataset
from unpaired.errors import BadImageError, ConfigError, DataError

MakeFolders = Callable[..., Path]
EVAL = build_transform("none", 16, 16, flip=False, train=False)
_Y, _X = np.mgrid[0:12, 0:16]  # a smooth image, height 12, width 16, that JPEG keeps well
PIXELS = np.stack([_X * 16, _Y * 20, 255 - _X * 8 - _Y * 4], axis=-1).astype(np.uint8)


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int32)


# ------------------------------------------------------------------ formats and modes


@pytest.mark.parametrize(
    ("name", "fmt", "tolerance"),
    [
        ("a.png", "PNG", 0),
        ("b.BMP", "BMP", 0),
        ("c.Tif", "TIFF", 0),
        ("d.TIFF", "TIFF", 0),
        ("e.WebP", "WEBP", 0),  # lossless below
        ("f.JPG", "JPEG", 6),  # lossy
        ("g.jpeg", "JPEG", 6),
    ],
)
def test_every_format_in_any_case_loads(tmp_path: Path, name: str, fmt: str, tolerance: int):
    options = {"WEBP": {"lossless": True}, "JPEG": {"quality": 95, "subsampling": 0}}.get(fmt, {})
    path = _write(tmp_path / name, _encoded(Image.fromarray(PIXELS), fmt, **options))
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (16, 12)
    assert np.abs(_rgb(image) - PIXELS).max() <= tolerance


def test_grayscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    gray = PIXELS[..., 0]
    path = _write(tmp_path / "g.png", _encoded(Image.fromarray(gray, "L"), "PNG"))
    pixels = _rgb(load_image(path, channels=3))
    for channel in range(3):
        assert np.array_equal(pixels[..., channel], gray)


def test_rgb_to_one_channel_is_luminance(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.png", _encoded(Image.fromarray(PIXELS), "PNG"))
    image = load_image(path, channels=1)
    luma = PIXELS @ np.array([0.299, 0.587, 0.114])
    assert image.mode == "L" and np.abs(_rgb(image) - luma).max() <= 1


def test_palette_keeps_its_colours(tmp_path: Path) -> None:
    palette = Image.fromarray(PIXELS).quantize(16)
    path = _write(tmp_path / "p.png", _encoded(palette, "PNG"))
    assert np.array_equal(_rgb(load_image(path)), _rgb(palette.convert("RGB")))


def test_sixteen_bit_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)  # 8-bit 0, 1, 128, 255
    path = _write(tmp_path / "deep.png", _encoded(Image.fromarray(values), "PNG"))
    assert Image.open(path).mode == "I;16"
    assert _rgb(load_image(path, channels=1)).tolist() == [[0, 1, 128, 255]]
    assert _rgb(load_image(path, channels=3))[0, 2].tolist() == [128, 128, 128]


def test_sixteen_bit_in_mode_i_is_scaled(tmp_path: Path) -> None:
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    path = _write(tmp_path / "deep.pgm", _encoded(Image.fromarray(values), "PPM"))
    assert Image.open(path).mode == "I"  # how Pillow opens 16-bit PGM files
    assert _rgb(load_image(path, channels=1)).tolist() == [[0, 128, 255]]


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)  # fully transparent black: shows white
    rgba[0, 1] = (200, 20, 40, 255)  # opaque: its own colour
    rgba[0, 2] = (0, 0, 0, 128)  # half-transparent black: mid grey
    path = _write(tmp_path / "t.png", _encoded(Image.fromarray(rgba, "RGBA"), "PNG"))
    pixels = _rgb(load_image(path))[0]
    assert pixels[0].tolist() == [255, 255, 255]
    assert pixels[1].tolist() == [200, 20, 40]
    assert np.abs(pixels[2] - 127).max() <= 1
    assert _rgb(load_image(path, channels=1))[0, 0] == 255


def test_palette_with_transparency_is_composited_on_white(tmp_path: Path) -> None:
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 200, 30, 0, 0, 0] + [0] * 762)
    palette.putpixel((0, 0), 0)
    palette.putpixel((1, 0), 1)
    path = _write(tmp_path / "p.png", _encoded(palette, "PNG", transparency=1))
    assert _rgb(load_image(path))[0].tolist() == [[10, 200, 30], [255, 255, 255]]


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_the_same_rgb(tmp_path: Path, fmt: str) -> None:
    colours = np.array([[[200, 30, 60], [20, 120, 240], [250, 250, 250]]], dtype=np.uint8)
    cmyk = Image.fromarray(colours.repeat(8, axis=0).repeat(8, axis=1)).convert("CMYK")
    path = _write(tmp_path / f"c.{fmt.lower()}", _encoded(cmyk, fmt, quality=100))
    assert Image.open(path).mode == "CMYK"
    pixels = _rgb(load_image(path))
    for index, colour in enumerate(colours[0]):
        assert np.abs(pixels[4, 8 * index + 4] - colour).max() <= 3


def test_exif_orientation_turns_the_photo_upright(tmp_path: Path) -> None:
    pixels = np.zeros((2, 4, 3), dtype=np.uint8)  # stored landscape, 4 wide, 2 high
    pixels[0, 0] = (255, 0, 0)  # red top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = _write(tmp_path / "phone.png", _encoded(Image.fromarray(pixels), "PNG", exif=exif))
    image = load_image(path)
    assert image.size == (2, 4)  # portrait
    assert _rgb(image)[0, 1].tolist() == [255, 0, 0]  # top-left went to top-right
    assert check_image(path) == (2, 4)


# ------------------------------------------------------------------ broken files


def _broken_files(folder: Path) -> dict[str, Path]:
    """One of each way a file can be broken, by name."""
    jpeg = _encoded(Image.fromarray(PIXELS), "JPEG")
    png = bytearray(_encoded(Image.fromarray(PIXELS), "PNG"))
    png[len(png) // 2] ^= 0xFF  # a flipped byte inside the image data
    return {
        "truncated jpeg": _write(folder / "truncated.jpg", jpeg[: len(jpeg) // 2]),
        "truncated png": _write(folder / "truncated.png", bytes(png[: len(png) // 2])),
        "corrupt png": _write(folder / "corrupt.png", bytes(png)),
        "empty file": _write(folder / "empty.jpg", b""),
        "not an image": _write(folder / "notes.png", b"shopping list: eggs"),
    }


def test_check_and_load_agree_on_broken_files(tmp_path: Path) -> None:
    broken = _broken_files(tmp_path)
    check = check_images(list(broken.values()))
    assert set(check.bad) == set(broken.values()) and not check.sizes
    for path in broken.values():
        with pytest.raises(BadImageError, match=re.escape(str(path))):
            load_image(path)
        with pytest.raises(BadImageError, match="Replace or delete it"):
            check_image(path)


def _set_with_broken_images(root: Path) -> dict[str, Path]:
    for domain in ("A", "B"):
        for index in range(3):
            _write(
                root / f"train{domain}" / f"{index}.png", _encoded(Image.fromarray(PIXELS), "PNG")
            )
    return _broken_files(root / "trainA")


def test_bad_images_are_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = _set_with_broken_images(tmp_path)
    with caplog.at_level(logging.WARNING):
        dataset = UnalignedDataset(tmp_path, "train", EVAL)
    assert [path.name for path in dataset.images["A"].paths] == ["0.png", "1.png", "2.png"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"5 of 8 images in {tmp_path / 'trainA'} cannot be decoded" in warnings[0]
    for path in broken.values():
        assert str(path) in warnings[0]


def test_bad_images_stop_the_start_with_on_bad_image_error(tmp_path: Path) -> None:
    broken = _set_with_broken_images(tmp_path)
    with pytest.raises(BadImageError, match="5 of 8 images") as error:
        UnalignedDataset(tmp_path, "train", EVAL, on_bad_image="error")
    message = str(error.value)
    assert "\n" not in message and "data.on_bad_image=warn" in message
    assert str(broken["corrupt png"]) in message


def test_image_broken_during_the_run_is_replaced_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _set_with_broken_images(tmp_path)
    dataset = UnalignedDataset(tmp_path, "train", EVAL, random_pairing=False)
    victim = dataset.images["A"].paths[1]
    victim.write_bytes(victim.read_bytes()[:50])  # truncated after the start-up check
    with caplog.at_level(logging.WARNING):
        batches = list(DataLoader(dataset, batch_size=2))
        list(DataLoader(dataset, batch_size=2))  # a second epoch does not warn again
    assert [path for batch in batches for path in batch["A_path"]] == [
        str(tmp_path / "trainA" / name) for name in ("0.png", "2.png", "2.png")
    ]
    warnings = [r.getMessage() for r in caplog.records if str(victim) in r.getMessage()]
    assert len(warnings) == 1 and "next image" in warnings[0]


def test_image_broken_during_the_run_raises_with_on_bad_image_error(
    make_domain_folders: MakeFolders,
) -> None:
    dataset = UnalignedDataset(
        make_domain_folders(2, 2, phases=("train",)), "train", EVAL, on_bad_image="error"
    )
    victim = dataset.images["A"].paths[0]
    victim.write_bytes(b"")
    with pytest.raises(BadImageError, match=re.escape(str(victim))):
        dataset[0]


def test_only_bad_images_is_an_error(tmp_path: Path) -> None:
    _broken_files(tmp_path / "trainA")
    _write(tmp_path / "trainB" / "0.png", _encoded(Image.fromarray(PIXELS), "PNG"))
    with pytest.raises(DataError, match=r"none of the 5 images in .*trainA can be decoded"):
        UnalignedDataset(tmp_path, "train", EVAL)


def test_unknown_on_bad_image_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.on_bad_image='skip'"):
        UnpairedDataModule(str(tmp_path), on_bad_image="skip")


# ------------------------------------------------------------------ start-up checks of folders


def test_folder_of_other_files_says_what_images_are(tmp_path: Path) -> None:
    for name in ("notes.txt", "scan.pdf"):
        _write(tmp_path / "trainA" / name, b"x")
    _write(tmp_path / "trainB" / "0.png", _encoded(Image.fromarray(PIXELS), "PNG"))
    module = UnpairedDataModule(str(tmp_path), load_size=16, crop_size=16, num_workers=0)
    with pytest.raises(DataError, match=r"trainA holds no image files \(it holds 2 other") as error:
        module.setup("fit")
    assert ".jpg" in str(error.value) and "trainB" in str(error.value)  # the layout hint


def test_image_smaller_than_the_crop_is_resized_up_with_a_warning(
    make_domain_folders: MakeFolders, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_domain_folders(2, 1, size=(24, 24), phases=("train",))
    small = root / "trainA" / "0001.png"
    Image.new("RGB", (20, 10)).save(small)
    transform = build_transform("crop", 16, 16, flip=False, train=True)
    with caplog.at_level(logging.WARNING):
        dataset = UnalignedDataset(root, "train", transform, random_pairing=False)
    assert f"1 of 2 images in {root / 'trainA'} are smaller than the crop" in caplog.text
    assert f"{small} (20x10)" in caplog.text
    assert tuple(dataset[1]["A"].shape) == (3, 16, 16)


def test_loading_a_whole_epoch_never_raises_with_odd_images(tmp_path: Path) -> None:
    """Every kind of file a user may have, in one folder, through the training loader."""
    folder = tmp_path / "trainA"
    modes = {"L": PIXELS[..., 0], "RGB": PIXELS}
    for index, (mode, pixels) in enumerate(modes.items()):
        _write(folder / f"{index}.png", _encoded(Image.fromarray(pixels, mode), "PNG"))
    _write(folder / "rgba.PNG", _encoded(Image.fromarray(PIXELS).convert("RGBA"), "PNG"))
    _write(folder / "cmyk.jpg", _encoded(Image.fromarray(PIXELS).convert("CMYK"), "JPEG"))
    deep = PIXELS[..., 0].astype(np.uint16) * 257
    _write(folder / "deep.tiff", _encoded(Image.fromarray(deep), "TIFF"))
    _broken_files(folder)
    for split in ("trainB", "testA", "testB"):
        _write(tmp_path / split / "0.bmp", _encoded(Image.fromarray(PIXELS), "BMP"))
    module = UnpairedDataModule(
        str(tmp_path), load_size=20, crop_size=16, batch_size=3, num_workers=0, val_batch_size=1
    )
    module.setup("fit")
    batches = list(module.train_dataloader())
    assert sum(len(batch["A"]) for batch in batches) == 5
    assert all(torch.isfinite(batch["A"]).all() for batch in batches)

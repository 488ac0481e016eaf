"""The style-transfer collections unpaired-download knows: their public addresses, and that an
archive of one folder of images installs as that folder (COCO's train2014.zip holds train2014/)."""

import io
import zipfile
from pathlib import Path

from rich.console import Console

from unpaired.data.download import IMAGES, SOURCES, install_from_file, problems


def test_coco_and_wikiart_come_from_their_public_addresses() -> None:
    assert SOURCES["coco2014_train"].url == "http://images.cocodataset.org/zips/train2014.zip"
    assert SOURCES["wikiart"].url.endswith("/ICIP2017/wikiart.zip")
    assert SOURCES["coco2014_train"].layout == SOURCES["wikiart"].layout == IMAGES


def test_an_archive_of_one_image_folder_installs_as_that_folder(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train2014/COCO_train2014_000000000009.jpg", b"jpeg bytes")
        archive.writestr("train2014/COCO_train2014_000000000025.jpg", b"more bytes")
    path = tmp_path / "train2014.zip"
    path.write_bytes(buffer.getvalue())
    target = install_from_file(
        path, "coco2014_train", tmp_path / "data", console=Console(quiet=True)
    )
    assert sorted(p.name for p in target.glob("*.jpg")) == [
        "COCO_train2014_000000000009.jpg",
        "COCO_train2014_000000000025.jpg",
    ]
    assert problems(target) == []

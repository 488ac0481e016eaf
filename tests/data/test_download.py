"""Downloads against a local HTTP server: resume, verification, refusal of unsafe archives.

``archive_server`` and ``archives`` (tests/conftest.py) serve and build the archives.
"""

import errno
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from unpaired.data import download as download_module
from unpaired.data.download import (
    SOURCES,
    CorruptArchiveError,
    UnsafeArchiveError,
    download,
    install_from_file,
    problems,
    url_for,
)
from unpaired.errors import DataError

ZIP_PATH = "/cyclegan/datasets/horse2zebra.zip"


@pytest.fixture
def quiet() -> Console:
    return Console(file=io.StringIO())


@pytest.fixture
def horse_zip(archives: types.SimpleNamespace) -> bytes:
    return archives.zip(archives.dataset("horse2zebra"))


def _leftovers(root: Path) -> list[str]:
    """Hidden files and folders a run left in ``root`` (partial downloads, staging folders)."""
    return sorted(path.name for path in root.iterdir() if path.name.startswith("."))


def _assert_installed(target: Path, archive: bytes) -> None:
    assert sorted(p.name for p in target.iterdir()) == [
        ".source",
        "testA",
        "testB",
        "trainA",
        "trainB",
    ]
    record = json.loads((target / ".source").read_text())
    assert record["archive_sha256"] == hashlib.sha256(archive).hexdigest()
    assert record["files"]["trainA/0.png"] == (target / "trainA" / "0.png").stat().st_size
    assert problems(target) == []


def test_sources_cover_the_papers_data_sets() -> None:
    cyclegan = {
        "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
        "ukiyoe2photo", "vangogh2photo", "maps", "facades", "iphone2dslr_flower", "ae_photos",
    }  # fmt: skip
    pix2pix = {"facades_pix2pix", "maps_pix2pix", "edges2shoes", "edges2handbags", "night2day"}
    stargan_v2 = {"afhq", "celeba_hq"}
    assert set(SOURCES) == cyclegan | pix2pix | stargan_v2
    assert SOURCES["afhq"].archive_name == "afhq.zip"  # the query (dl=1) is no part of it
    assert SOURCES["horse2zebra"].url.endswith("/cyclegan/datasets/horse2zebra.zip")
    assert SOURCES["facades_pix2pix"].url.endswith("/pix2pix/datasets/facades.tar.gz")


def test_mirror_keeps_the_authors_path() -> None:
    url = url_for(SOURCES["maps_pix2pix"], "http://127.0.0.1:9/mirror/")
    assert url == "http://127.0.0.1:9/mirror/pix2pix/datasets/maps.tar.gz"


def test_download_installs_in_our_layout(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = horse_zip
    target = download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert target == tmp_path / "horse2zebra"
    _assert_installed(target, horse_zip)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["horse2zebra"]  # archive deleted
    assert json.loads((target / ".source").read_text())["origin"] == archive_server.url + ZIP_PATH


def test_tar_gz_of_pix2pix_is_installed_under_its_name(
    tmp_path: Path, archive_server: Any, archives, quiet: Console
) -> None:
    members = {"facades/train/1.jpg": b"ab", "facades/val/2.jpg": b"cd"}
    archive_server.files["/pix2pix/datasets/facades.tar.gz"] = archives.tar_gz(members)
    target = download("facades_pix2pix", tmp_path, mirror=archive_server.url, console=quiet)
    assert (target / "train" / "1.jpg").read_bytes() == b"ab"
    assert (target / "val" / "2.jpg").read_bytes() == b"cd"


def test_second_run_checks_instead_of_downloading(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = horse_zip
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    requests = len(archive_server.ranges)
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert len(archive_server.ranges) == requests
    (tmp_path / "horse2zebra" / "testB" / "1.png").unlink()
    with pytest.raises(DataError, match=r"damaged: 1 files .* testB/1\.png is missing.*--force"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    download("horse2zebra", tmp_path, mirror=archive_server.url, force=True, console=quiet)
    _assert_installed(tmp_path / "horse2zebra", horse_zip)
    assert _leftovers(tmp_path) == []


def test_interrupted_download_resumes_with_a_range_request(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    half = len(horse_zip) // 2
    archive_server.files[ZIP_PATH] = horse_zip
    archive_server.cut_after[ZIP_PATH] = half
    with pytest.raises(DataError, match="run the same command again to resume"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert _leftovers(tmp_path) == [".horse2zebra.zip.part"]  # no folder, no final name
    assert (tmp_path / ".horse2zebra.zip.part").read_bytes() == horse_zip[:half]

    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert archive_server.ranges == [None, f"bytes={half}-"]
    assert archive_server.sent == [half, len(horse_zip) - half]  # only the missing half again
    _assert_installed(tmp_path / "horse2zebra", horse_zip)
    assert _leftovers(tmp_path) == []


def test_server_without_range_support_restarts_cleanly(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = horse_zip
    archive_server.cut_after[ZIP_PATH] = 100
    archive_server.honour_ranges = False
    with pytest.raises(DataError, match="resume"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert archive_server.sent == [100, len(horse_zip)]  # the whole file again, read once
    _assert_installed(tmp_path / "horse2zebra", horse_zip)


def test_complete_part_file_is_not_fetched_again(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = horse_zip
    (tmp_path / ".horse2zebra.zip.part").write_bytes(horse_zip)  # killed just before the rename
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert sum(archive_server.sent) == 0
    _assert_installed(tmp_path / "horse2zebra", horse_zip)


def test_a_complete_part_file_unconfirmed_by_the_server_is_fetched_again(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    # a 416 without Content-Range does not say how long the file is: start afresh
    archive_server.files[ZIP_PATH] = horse_zip
    archive_server.content_range = False
    (tmp_path / ".horse2zebra.zip.part").write_bytes(horse_zip)
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert archive_server.ranges == [f"bytes={len(horse_zip)}-", None]
    _assert_installed(tmp_path / "horse2zebra", horse_zip)


def test_a_partial_answer_without_its_range_restarts_the_download(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    # a 206 without Content-Range may not start where the part file ends: start afresh
    half = len(horse_zip) // 2
    archive_server.files[ZIP_PATH] = horse_zip
    archive_server.cut_after[ZIP_PATH] = half
    with pytest.raises(DataError, match="resume"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    archive_server.content_range = False
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert archive_server.ranges == [None, f"bytes={half}-", None]
    _assert_installed(tmp_path / "horse2zebra", horse_zip)
    assert _leftovers(tmp_path) == []


def test_a_part_file_longer_than_the_archive_is_replaced(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    # the server's 416 names another length: the part is of another file, fetch it all again
    archive_server.files[ZIP_PATH] = horse_zip
    (tmp_path / ".horse2zebra.zip.part").write_bytes(horse_zip + b"more")
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert archive_server.ranges == [f"bytes={len(horse_zip) + 4}-", None]
    _assert_installed(tmp_path / "horse2zebra", horse_zip)


def test_a_download_makes_the_root_and_its_parents(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = horse_zip
    download("horse2zebra", tmp_path / "a" / "b", mirror=archive_server.url, console=quiet)
    _assert_installed(tmp_path / "a" / "b" / "horse2zebra", horse_zip)


def test_a_file_gone_from_the_server_while_resuming_is_named(
    tmp_path: Path, archive_server: Any, quiet: Console
) -> None:
    (tmp_path / ".horse2zebra.zip.part").write_bytes(b"half")
    with pytest.raises(DataError, match=r"horse2zebra\.zip failed: HTTP 404"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)


def test_the_macos_resource_folder_beside_the_top_folder_is_ignored(
    tmp_path: Path, archives: types.SimpleNamespace, quiet: Console
) -> None:
    members = {**archives.dataset("horse2zebra"), "__MACOSX/horse2zebra/._0.png": b"x"}
    archive = tmp_path / "horse2zebra.zip"
    archive.write_bytes(archives.zip(members))
    target = install_from_file(archive, "horse2zebra", tmp_path / "data", console=quiet)
    assert sorted(p.name for p in target.iterdir()) == [
        ".source",
        "testA",
        "testB",
        "trainA",
        "trainB",
    ]


def test_truncated_archive_is_refused_and_deleted(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = horse_zip[: len(horse_zip) - 200]  # the server's copy
    with pytest.raises(CorruptArchiveError, match=r"corrupt or truncated.*deleted"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert list(tmp_path.iterdir()) == []  # no archive, no folder, no staging
    archive_server.files[ZIP_PATH] = horse_zip
    download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    _assert_installed(tmp_path / "horse2zebra", horse_zip)


def _corrupt(data: bytes, marker: bytes) -> bytes:
    """Flip a byte in the middle of the compressed data that follows ``marker``."""
    position = data.index(marker) + len(marker) + 40
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def test_corrupt_zip_fails_its_crc(
    tmp_path: Path, archives: types.SimpleNamespace, quiet: Console
) -> None:
    member = archives.png(seed=1, size=64)
    archive = tmp_path / "set.zip"
    archive.write_bytes(_corrupt(archives.zip({"set/trainA/0.png": member}), b"0.png"))
    with pytest.raises(CorruptArchiveError, match=r"corrupt or truncated \(BadZipFile"):
        install_from_file(archive, "set", tmp_path / "data", console=quiet)
    assert _leftovers(tmp_path / "data") == [] and not (tmp_path / "data" / "set").exists()


@pytest.mark.parametrize("position", [-12, -7], ids=["in the data", "in the CRC trailer"])
def test_corrupt_tar_gz_fails_its_crc(
    tmp_path: Path, archives: types.SimpleNamespace, quiet: Console, position: int
) -> None:
    data = archives.tar_gz({f"set/train/{i}.png": archives.png(i, 32) for i in range(3)})
    archive = tmp_path / "set.tar.gz"
    flipped = bytes([data[position] ^ 0xFF])
    archive.write_bytes(data[:position] + flipped + data[position + 1 :])
    with pytest.raises(CorruptArchiveError, match="corrupt or truncated"):
        install_from_file(archive, "set", tmp_path / "data", console=quiet)
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "members", "links", "problem"),
    [
        ("zip", {"set/../../evil.txt": b"x"}, {}, "climbs out"),
        ("zip", {"/tmp/evil.txt": b"x"}, {}, "absolute path"),
        ("zip", {"C:/evil.txt": b"x"}, {}, "absolute path"),
        ("zip", {"set\\..\\..\\evil.txt": b"x"}, {}, "climbs out"),  # Windows separators
        ("zip", {"\\evil.txt": b"x"}, {}, "absolute path"),
        ("tar_gz", {"set/ok.png": b"x", "../evil.txt": b"x"}, {}, "climbs out"),
        ("tar_gz", {"set/ok.png": b"x"}, {"set/link.png": "/etc/passwd"}, "is a link"),
    ],
)
def test_malicious_archives_are_refused(
    tmp_path: Path,
    archives: types.SimpleNamespace,
    quiet: Console,
    kind: str,
    members: dict[str, bytes],
    links: dict[str, str],
    problem: str,
) -> None:
    archive = tmp_path / f"evil.{kind}"
    build = archives.zip if kind == "zip" else archives.tar_gz
    archive.write_bytes(build(members, links) if links else build(members))
    root = tmp_path / "deep" / "data"
    with pytest.raises(UnsafeArchiveError, match=f"refusing to extract .*evil.{kind}.*{problem}"):
        install_from_file(archive, "set", root, console=quiet)
    assert list(root.iterdir()) == []  # nothing installed, no staging folder left
    assert not any(path.name == "evil.txt" for path in tmp_path.rglob("*"))


def _typed_zip(path: Path, members: dict[str, int]) -> None:
    """A zip whose members carry Unix file types in their attributes, as zip(1) writes them."""
    with zipfile.ZipFile(path, "w") as zipped:
        for name, mode in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zipped.writestr(info, b"" if name.endswith("/") else b"data")


def test_zip_with_unix_file_types_installs_its_files_and_folders(
    tmp_path: Path, quiet: Console
) -> None:
    archive = tmp_path / "typed.zip"
    members = {
        "set/": 0o040755,
        "set/trainA/": 0o040755,
        "set/trainA/a.png": 0o100644,
        "x": 0o100644,
    }
    _typed_zip(archive, members)
    target = install_from_file(archive, "set", tmp_path / "data", console=quiet)
    assert (target / "set" / "trainA" / "a.png").read_bytes() == b"data"
    assert (target / "x").read_bytes() == b"data"  # a one-letter name at the top is a name


def test_zip_with_a_pipe_is_refused(tmp_path: Path, quiet: Console) -> None:
    archive = tmp_path / "pipe.zip"
    _typed_zip(archive, {"set/a.png": 0o100644, "set/pipe": 0o010644})
    with pytest.raises(UnsafeArchiveError, match="'set/pipe' is a special file"):
        install_from_file(archive, "set", tmp_path / "data", console=quiet)


def test_from_file_with_force_replaces_a_folder_made_by_hand(
    tmp_path: Path, horse_zip: bytes, quiet: Console
) -> None:
    mine = tmp_path / "data" / "horse2zebra" / "trainA" / "mine.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"keep")
    archive = tmp_path / "horse2zebra.zip"
    archive.write_bytes(horse_zip)
    with pytest.raises(DataError, match="--force"):
        install_from_file(archive, "horse2zebra", tmp_path / "data", console=quiet)
    target = install_from_file(archive, "horse2zebra", tmp_path / "data", force=True, console=quiet)
    _assert_installed(target, horse_zip)


def test_zip_with_a_symbolic_link_is_refused(tmp_path: Path, quiet: Console) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        link = zipfile.ZipInfo("set/passwd")
        link.external_attr = 0o120777 << 16  # a symbolic link, as zip -y stores it
        zipped.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="is a link"):
        install_from_file(archive, "set", tmp_path / "data", console=quiet)


def test_tar_with_a_device_or_pipe_is_refused(tmp_path: Path, quiet: Console) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        folder = tarfile.TarInfo("set")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        pipe = tarfile.TarInfo("set/pipe")
        pipe.type = tarfile.FIFOTYPE
        tar.addfile(pipe)
    archive = tmp_path / "pipe.tar.gz"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(UnsafeArchiveError, match="'set/pipe' is a special file"):
        install_from_file(archive, "set", tmp_path / "data", console=quiet)
    assert list((tmp_path / "data").iterdir()) == []


def test_damaged_gzip_is_not_taken_for_a_tar(tmp_path: Path, quiet: Console) -> None:
    archive = tmp_path / "set.tar.gz"
    archive.write_bytes(gzip.compress(b"x" * 5000)[:10] + bytes(40))  # gzip header, then zeros
    with pytest.raises(CorruptArchiveError, match="neither a zip nor a tar archive"):
        install_from_file(archive, "set", tmp_path / "data", console=quiet)


def test_from_file_names_an_archive_that_is_not_there(tmp_path: Path, quiet: Console) -> None:
    missing = tmp_path / "downloads" / "horse2zebra.zip"
    with pytest.raises(DataError, match=f"archive {re.escape(str(missing))} not found"):
        install_from_file(missing, "horse2zebra", tmp_path / "data", console=quiet)


def test_offline_error_points_to_from_file(tmp_path: Path, quiet: Console) -> None:
    with pytest.raises(DataError, match=re.escape("cannot reach 127.0.0.1:9")) as error:
        download("horse2zebra", tmp_path, mirror="http://127.0.0.1:9", console=quiet)
    assert "unpaired-download horse2zebra --from-file /path/to/horse2zebra.zip" in str(error.value)


def test_missing_file_on_the_server_is_named(
    tmp_path: Path, archive_server: Any, quiet: Console
) -> None:
    with pytest.raises(DataError, match=r"horse2zebra\.zip failed: HTTP 404") as error:
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert "--from-file" in str(error.value)


def test_html_page_instead_of_an_archive(
    tmp_path: Path, archive_server: Any, quiet: Console
) -> None:
    archive_server.files[ZIP_PATH] = b"<html>Service unavailable</html>"
    with pytest.raises(CorruptArchiveError, match="neither a zip nor a tar archive"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert list(tmp_path.iterdir()) == []


def test_from_file_installs_and_keeps_the_archive(
    tmp_path: Path, horse_zip: bytes, archives: types.SimpleNamespace, quiet: Console
) -> None:
    archive = tmp_path / "downloads" / "horse2zebra.zip"
    archive.parent.mkdir()
    archive.write_bytes(horse_zip)
    root = tmp_path / "data"
    target = install_from_file(archive, "horse2zebra", root, console=quiet)
    _assert_installed(target, horse_zip)
    assert archive.read_bytes() == horse_zip
    assert json.loads((target / ".source").read_text())["origin"] == str(archive)
    install_from_file(archive, "horse2zebra", root, console=quiet)  # the same: nothing to do
    other = tmp_path / "other.zip"
    other.write_bytes(archives.zip(archives.dataset("horse2zebra", per_split=1)))
    with pytest.raises(DataError, match="another archive"):
        install_from_file(other, "horse2zebra", root, console=quiet)


def test_from_file_takes_a_set_of_your_own_without_a_top_folder(
    tmp_path: Path, archives: types.SimpleNamespace, quiet: Console
) -> None:
    archive = tmp_path / "mine.zip"
    archive.write_bytes(archives.zip({"trainA/a.png": b"1", "trainB/b.png": b"2"}))
    target = install_from_file(archive, "my_set", tmp_path / "data", console=quiet)
    assert (target / "trainA" / "a.png").read_bytes() == b"1"


@pytest.mark.parametrize("name", ["../up", ".hidden", "a/b", "a\\b", ""])
def test_from_file_refuses_names_that_are_not_folders(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError, match="not a data set name"):
        install_from_file(tmp_path / "x.zip", name, tmp_path)


def test_folder_made_by_hand_is_not_replaced_without_force(
    tmp_path: Path, archive_server: Any, horse_zip: bytes, quiet: Console
) -> None:
    mine = tmp_path / "horse2zebra" / "trainA" / "mine.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"keep")
    archive_server.files[ZIP_PATH] = horse_zip
    with pytest.raises(DataError, match=r"no readable \.source record.*--force"):
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert mine.read_bytes() == b"keep"
    download("horse2zebra", tmp_path, mirror=archive_server.url, force=True, console=quiet)
    _assert_installed(tmp_path / "horse2zebra", horse_zip)
    assert _leftovers(tmp_path) == []


def test_unknown_name_lists_the_known_ones(tmp_path: Path, quiet: Console) -> None:
    with pytest.raises(DataError, match=re.escape("no data set is called 'horse2zebr'")) as error:
        download("horse2zebr", tmp_path, console=quiet)
    assert "horse2zebra" in str(error.value) and "--list" in str(error.value)


def test_a_full_disk_during_a_download_is_not_called_an_interruption(
    tmp_path: Path,
    archive_server: Any,
    horse_zip: bytes,
    quiet: Console,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    archive_server.files[ZIP_PATH] = horse_zip
    monkeypatch.setattr(download_module, "open", lambda *args: FullDisk(), raising=False)
    with pytest.raises(OSError, match="No space left") as error:
        download("horse2zebra", tmp_path, mirror=archive_server.url, console=quiet)
    assert error.value.errno == errno.ENOSPC
    assert "resume" not in str(error.value)

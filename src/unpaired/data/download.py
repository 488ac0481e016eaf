"""The papers' data sets, from the authors' servers into ``data/NAME`` (``unpaired-download``).

A download is safe to interrupt and to repeat:

- it is written to ``.NAME.<ext>.part`` next to the target; a new run resumes it with an HTTP
  Range request (or starts it again if the server ignores the range), and only a complete file
  (as long as the server announced) is renamed to ``NAME.<ext>``;
- the archive is refused if a member has an absolute path, a ``..`` component, or is a link or a
  device; it is extracted into a hidden staging folder next to the target, member by member
  with each member's checksum verified (CRC-32 in a zip, the gzip stream's CRC for a tar.gz),
  and only a complete, verified extraction is renamed to ``data/NAME``; on any failure the
  staging folder is deleted, so no half-extracted folder is ever left behind;
- ``data/NAME/.source`` records where the data came from, the archive's sha256 and the size of
  every file, so a later run tells an intact installation from a damaged one without the
  archive; the downloaded archive is deleted once installed.

Without internet access (compute nodes of many clusters), download the archive elsewhere and
install it with ``unpaired-download NAME --from-file ARCHIVE``.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import Request, urlopen

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from unpaired.errors import DataError

SOURCE_FILE = ".source"
TIMEOUT_S = 60
CHUNK = 1 << 20

_CYCLEGAN = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip"
_PIX2PIX = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{}.tar.gz"
#: Layouts: unaligned = trainA/ trainB/ testA/ testB/; aligned = train/ val/ test/ (and for some
#: sets only some of these), each image A|B side by side.
UNALIGNED = "unaligned"
ALIGNED = "aligned A|B"
#: train/<domain>/ val/<domain>/: the StarGAN v2 authors' sets (their download.sh; Dropbox
#: addresses, dl=1 being the direct download of the address their script uses).
PER_DOMAIN = "one folder per domain"


@dataclass(frozen=True)
class DatasetSource:
    """A data set the authors publish: its folder name here, its address, its layout."""

    name: str
    url: str
    layout: str
    about: str

    @property
    def archive_name(self) -> str:
        """The archive's file name, e.g. ``horse2zebra.zip``."""
        return PurePosixPath(urlsplit(self.url).path).name


def _cyclegan(name: str, about: str) -> DatasetSource:
    return DatasetSource(name, _CYCLEGAN.format(name), UNALIGNED, about)


def _pix2pix(name: str, about: str, archive: str | None = None) -> DatasetSource:
    return DatasetSource(name, _PIX2PIX.format(archive or name), ALIGNED, about)


#: The CycleGAN authors' sets (their download_cyclegan_dataset.sh) and the pix2pix authors' sets
#: (download_pix2pix_dataset.sh). facades and maps exist in both: the unpaired versions keep the
#: plain names, the aligned pix2pix versions are facades_pix2pix and maps_pix2pix.
SOURCES: dict[str, DatasetSource] = {
    source.name: source
    for source in (
        _cyclegan("horse2zebra", "ImageNet horses and zebras"),
        _cyclegan("apple2orange", "ImageNet apples and oranges"),
        _cyclegan("summer2winter_yosemite", "Yosemite photos in summer and in winter (Flickr)"),
        _cyclegan("monet2photo", "Monet paintings (WikiArt) and landscape photos (Flickr)"),
        _cyclegan("cezanne2photo", "Cezanne paintings (WikiArt) and landscape photos"),
        _cyclegan("ukiyoe2photo", "Ukiyo-e prints (WikiArt) and landscape photos"),
        _cyclegan("vangogh2photo", "Van Gogh paintings (WikiArt) and landscape photos"),
        _cyclegan("maps", "Google Maps aerial photos and map tiles of New York, unpaired"),
        _cyclegan("facades", "CMP facade photos and their label maps, unpaired"),
        _cyclegan("iphone2dslr_flower", "flower photos by iPhone and by DSLR (shallow focus)"),
        _cyclegan("ae_photos", "photos to test the authors' pretrained style-transfer models"),
        _pix2pix("facades_pix2pix", "CMP facade label maps and photos, paired", "facades"),
        _pix2pix("maps_pix2pix", "map tiles and aerial photos, paired", "maps"),
        _pix2pix("edges2shoes", "edge maps and photos of shoes (UT Zappos50K)"),
        _pix2pix("edges2handbags", "edge maps and photos of handbags (iGAN)"),
        _pix2pix("night2day", "the same scenes at night and by day (Transient Attributes)"),
        DatasetSource(
            "afhq",
            "https://www.dropbox.com/s/t9l9o3vsx2jai3z/afhq.zip?dl=1",
            PER_DOMAIN,
            "Animal Faces-HQ: cat, dog and wild animal faces, 512x512 (StarGAN v2)",
        ),
        DatasetSource(
            "celeba_hq",
            "https://www.dropbox.com/s/f7pvjij2xlpff59/celeba_hq.zip?dl=1",
            PER_DOMAIN,
            "CelebA-HQ faces as female and male, 256x256 (StarGAN v2)",
        ),
    )
}


def source_for(name: str) -> DatasetSource:
    """The known data set ``name``.

    Raises:
        DataError: no data set has that name.
    """
    if name not in SOURCES:
        raise DataError(
            f"no data set is called {name!r}; known: {', '.join(SOURCES)} "
            "(unpaired-download --list describes them)."
        )
    return SOURCES[name]


def url_for(source: DatasetSource, mirror: str | None = None) -> str:
    """The archive's address, on ``mirror`` (scheme and host, e.g. ``http://host:8000``) if
    given, with the authors' path."""
    if not mirror:
        return source.url
    original, replacement = urlsplit(source.url), urlsplit(mirror)
    path = replacement.path.rstrip("/") + original.path
    return urlunsplit((replacement.scheme, replacement.netloc, path, "", ""))


def download(
    name: str,
    root: Path,
    *,
    mirror: str | None = None,
    force: bool = False,
    console: Console | None = None,
) -> Path:
    """Download data set ``name`` and install it into ``root/name``; returns that folder.

    If it is installed and intact already, nothing is downloaded.

    Raises:
        DataError: unknown name, no network, a server error, an incomplete or corrupt archive, an
            unsafe archive, or a target folder that is not ours to replace (see ``force``).
    """
    console = console or Console(stderr=True)
    source = source_for(name)
    target = Path(root) / name
    if _already_installed(target, force, console):
        return target
    url = url_for(source, mirror)
    archive = Path(root) / source.archive_name
    if not archive.is_file():
        hint = f"unpaired-download {name} --from-file /path/to/{source.archive_name}"
        fetch(url, archive, console, offline_hint=hint)
    try:
        install_archive(archive, name, root, origin=url, force=force, console=console)
    except CorruptArchiveError as error:
        archive.unlink()  # the next run downloads it afresh
        raise CorruptArchiveError(f"{error} It was deleted; run the command again.") from error
    archive.unlink()
    return target


def install_from_file(
    archive: Path,
    name: str,
    root: Path,
    *,
    force: bool = False,
    console: Console | None = None,
) -> Path:
    """Install an archive downloaded by hand as ``root/name`` (kept where it is); returns the
    folder. ``name`` may be one of :data:`SOURCES` or any folder name for a set of your own."""
    console = console or Console(stderr=True)
    _check_folder_name(name)
    archive = Path(archive).expanduser().absolute()
    if not archive.is_file():
        raise DataError(f"archive {archive} not found; pass the path of the downloaded file.")
    target = Path(root) / name
    digest = sha256_of(archive)
    if _already_installed(target, force, console, archive_sha256=digest):
        return target
    install_archive(
        archive, name, root, origin=str(archive), force=force, console=console, digest=digest
    )
    return target


# ------------------------------------------------------------------------------------ fetching


def fetch(url: str, destination: Path, console: Console, offline_hint: str = "") -> None:
    """Download ``url`` to ``destination``, resuming ``.<name>.part`` if a run left one.

    ``offline_hint``: the command that installs a hand-downloaded copy, for the error messages.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(f".{destination.name}.part")
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urlopen(Request(url, headers=headers), timeout=TIMEOUT_S)
    except HTTPError as error:
        if error.code == 416 and offset:  # the range starts at or past the end
            if _total_of_unsatisfiable(error) == offset:
                os.replace(part, destination)  # a previous run got every byte
                return
            part.unlink()
            return fetch(url, destination, console, offline_hint)
        raise DataError(
            f"downloading {url} failed: HTTP {error.code} {error.reason}. Check the address, or "
            f"download the file by hand and install it: {offline_hint}"
        ) from error
    except (URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataError(
            f"cannot reach {urlsplit(url).netloc} to download {url} ({reason}). Without internet "
            "access (a cluster's compute nodes, say) download the file on a machine that has it, "
            f"copy it here and install it: {offline_hint}"
        ) from error
    with response:
        partial = response.status == 206
        resumed = offset > 0 and partial and _range_start(response) == offset
        if partial and not resumed:  # a range other than the one asked for: start afresh
            part.unlink(missing_ok=True)
            response.close()
            return fetch(url, destination, console, offline_hint)
        if not resumed:
            offset = 0  # the server sent the whole file: write it from the start
        total = _announced_total(response, offset)
        with _progress(console) as progress:
            task = progress.add_task(f"download {destination.name}", total=total, completed=offset)
            _stream(
                response, part, "ab" if resumed else "wb", url, lambda n: progress.advance(task, n)
            )
    size = part.stat().st_size
    if total is not None and size != total:
        raise DataError(
            f"the download of {url} stopped after {size} of {total} bytes; run the same command "
            "again to resume it."
        )
    os.replace(part, destination)


def _stream(
    response: IO[bytes], part: Path, mode: str, url: str, advance: Callable[[int], None]
) -> None:
    """Append (``mode="ab"``) or write the response body to ``part``."""
    with open(part, mode) as file:
        try:
            while chunk := response.read(CHUNK):
                file.write(chunk)
                advance(len(chunk))
        except (OSError, HTTPException) as error:  # the connection dropped or timed out
            if isinstance(error, OSError) and error.errno == errno.ENOSPC:
                raise
            raise DataError(
                f"the download of {url} was interrupted after {part.stat().st_size} bytes "
                f"({error}); run the same command again to resume it."
            ) from error


def _range_start(response: Any) -> int | None:
    """First byte of a 206 response, from ``Content-Range: bytes START-END/TOTAL``."""
    content_range = response.headers.get("Content-Range", "")
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _announced_total(response: Any, offset: int) -> int | None:
    """The full file size the server announced (Content-Range total, else Content-Length)."""
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and not content_range.endswith("/*"):
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return None if length is None else offset + int(length)


def _total_of_unsatisfiable(error: HTTPError) -> int | None:
    content_range = error.headers.get("Content-Range", "") if error.headers else ""
    total = content_range.rsplit("/", 1)[-1]
    return int(total) if total.isdigit() else None


def _progress(console: Console) -> Progress:
    """A progress bar of bytes: done/total, speed, time left."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


# ---------------------------------------------------------------------------------- installing


class UnsafeArchiveError(DataError):
    """An archive member would land outside the target, or is a link or a device."""


class CorruptArchiveError(DataError):
    """An archive is truncated, fails a checksum, or is no archive at all."""


def install_archive(
    archive: Path,
    name: str,
    root: Path,
    *,
    origin: str,
    force: bool = False,
    console: Console | None = None,
    digest: str | None = None,
) -> Path:
    """Extract ``archive`` (zip or tar.gz, told apart by content) into ``root/name``.

    The members are checked and extracted into a staging folder; only when all of them are
    written and verified is it renamed to ``root/name`` (replacing an existing folder only with
    ``force``). A single top-level folder in the archive (``horse2zebra/`` in the authors'
    zips) is unwrapped. ``.source`` records ``origin`` and the archive's sha256 (``digest``, if
    the caller has it already).
    """
    console = console or Console(stderr=True)
    root = Path(root)
    target = root / name
    digest = digest or sha256_of(archive)
    staging = root / f".{name}.tmp-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        _extract(archive, staging, console)
        content = _unwrap(staging)
        files = {
            path.relative_to(content).as_posix(): path.stat().st_size
            for path in sorted(content.rglob("*"))
            if path.is_file()
        }
        record = {
            "name": name,
            "origin": origin,
            "archive": archive.name,
            "archive_sha256": digest,
            "archive_size": archive.stat().st_size,
            "files": files,
        }
        (content / SOURCE_FILE).write_text(json.dumps(record, indent=1) + "\n")
        _move_into_place(content, target, force)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DataError(
                f"no space left on the disk of {root.absolute()} to extract {archive.name}; free "
                "some, or pass another --root."
            ) from error
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    console.print(f"installed {name} into {target} ({len(files)} files)")
    return target


def _extract(archive: Path, staging: Path, console: Console) -> None:
    with open(archive, "rb") as file:
        magic = file.read(2)
    try:
        if magic == b"PK":
            _extract_zip(archive, staging, console)
        elif _is_tar(archive):
            _extract_tar(archive, staging, console)
        else:
            raise CorruptArchiveError(
                f"{archive} is neither a zip nor a tar archive (an HTML error page, say)."
            )
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise CorruptArchiveError(
            f"archive {archive} is corrupt or truncated ({type(error).__name__}: {error})."
        ) from error


def _is_tar(archive: Path) -> bool:
    try:
        return tarfile.is_tarfile(archive)
    except (OSError, EOFError, zlib.error):
        return False  # a damaged gzip stream: not recognisable as a tar archive


def _extract_zip(archive: Path, staging: Path, console: Console) -> None:
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        for member in members:  # every name is checked before anything is written
            _check_member(archive, member.filename, _zip_kind(member))
        with _progress(console) as progress:
            task = progress.add_task(
                f"extract {archive.name}", total=sum(m.file_size for m in members)
            )
            for member in members:
                if not member.is_dir():
                    with zipped.open(member) as source:  # raises BadZipFile on a CRC mismatch
                        _write_member(source, staging / member.filename)
                progress.advance(task, member.file_size)


def _zip_kind(member: zipfile.ZipInfo) -> str:
    unix_type = (member.external_attr >> 16) & 0o170000
    if unix_type == 0o120000:
        return "link"
    if unix_type not in (0, 0o100000, 0o040000):
        return "special file"
    return "folder" if member.is_dir() else "file"


def _extract_tar(archive: Path, staging: Path, console: Console) -> None:
    """One pass over the stream: each member is checked before it is written."""
    with (
        _progress(console) as progress,
        open(archive, "rb") as raw,
        tarfile.open(fileobj=raw, mode="r:*") as tar,
    ):
        task = progress.add_task(f"extract {archive.name}", total=archive.stat().st_size)
        for member in tar:
            _check_member(archive, member.name, _tar_kind(member))
            if member.isfile():
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has content
                _write_member(source, staging / member.name)
            progress.update(task, completed=raw.tell())
        # The gzip CRC sits after the tar's end marker: read to the end so that it is checked.
        while tar.fileobj is not None and tar.fileobj.read(CHUNK):
            pass


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.issym() or member.islnk():
        return "link"
    if member.isdir():
        return "folder"
    return "file" if member.isfile() else "special file"


def _check_member(archive: Path, name: str, kind: str) -> None:
    """Refuse a member that would be written outside the staging folder, or is not a plain file
    or folder."""
    parts = name.replace("\\", "/").split("/")
    if kind in ("link", "special file"):
        problem = f"is a {kind}"
    elif name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        problem = "has an absolute path"
    elif ".." in parts:
        problem = "climbs out of the folder with '..'"
    else:
        return
    raise UnsafeArchiveError(
        f"refusing to extract {archive}: its member {name!r} {problem}. The authors' archives "
        "hold only plain files and folders; this one is not theirs or was tampered with."
    )


def _write_member(source: IO[bytes], destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "wb") as file:
        shutil.copyfileobj(source, file, CHUNK)


def _unwrap(staging: Path) -> Path:
    """The archive's single top-level folder if it has one, else the staging folder."""
    entries = [entry for entry in staging.iterdir() if entry.name != "__MACOSX"]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else staging


def _move_into_place(content: Path, target: Path, force: bool) -> None:
    if target.exists():
        if not force:
            raise DataError(f"{target} exists; pass --force to replace it.")
        retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        os.rename(target, retired)
        os.rename(content, target)
        shutil.rmtree(retired)
    else:
        os.rename(content, target)


# ------------------------------------------------------------------------------- installations


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def problems(target: Path) -> list[str]:
    """What is wrong with the installation in ``target`` by its ``.source`` record: missing
    files, files of another size. Empty when it is intact.

    Raises:
        DataError: ``target`` has no readable ``.source`` record.
    """
    try:
        record = json.loads((target / SOURCE_FILE).read_text())
        files: dict[str, int] = record["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(
            f"{target} has no readable {SOURCE_FILE} record ({error}); it was not installed by "
            "unpaired-download. Move it away, or pass --force to replace it."
        ) from error
    found = []
    for relative, size in files.items():
        path = target / relative
        if not path.is_file():
            found.append(f"{relative} is missing")
        elif path.stat().st_size != size:
            found.append(f"{relative} has {path.stat().st_size} bytes instead of {size}")
    return found


def _already_installed(
    target: Path, force: bool, console: Console, archive_sha256: str | None = None
) -> bool:
    """Whether ``target`` holds an intact installation to keep (of that archive, if given)."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()  # an empty folder (made by hand, say) is taken over
    if force or not target.exists():
        return False
    found = problems(target)
    if found:
        raise DataError(
            f"{target} is damaged: {len(found)} files differ from the installation record, "
            f"e.g. {found[0]}. Pass --force to install it again."
        )
    record = json.loads((target / SOURCE_FILE).read_text())
    if archive_sha256 is not None and record["archive_sha256"] != archive_sha256:
        raise DataError(
            f"{target} holds data from another archive ({record['origin']}, sha256 "
            f"{record['archive_sha256'][:12]}...); pass --force to replace it."
        )
    console.print(f"{target} is installed and intact (from {record['origin']}).")
    return True


def _check_folder_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise DataError(
            f"{name!r} is not a data set name; use a plain folder name such as horse2zebra."
        )

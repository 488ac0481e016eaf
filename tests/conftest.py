"""Fixtures shared across test folders: small data-set archives and a local HTTP server."""

import io
import tarfile
import threading
import types
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

SPLITS = ("trainA", "trainB", "testA", "testB")


def png_bytes(seed: int, size: int = 8) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def dataset_members(top: str, per_split: int = 2) -> dict[str, bytes]:
    """``top/<split>/<i>.png`` for the four unaligned splits, like the authors' zips."""
    return {
        f"{top}/{split}/{index}.png": png_bytes(seed=100 * number + index)
        for number, split in enumerate(SPLITS)
        for index in range(per_split)
    }


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A tar.gz of ``members`` plus symbolic links ``name -> target``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


@dataclass
class ArchiveServer:
    """A local HTTP server of in-memory files, with HTTP Range support.

    ``files``: path -> bytes. ``cut_after``: path -> number of bytes after which the next
    response for that path is cut off (once), as a dropped connection would. ``ranges``: the
    Range header of every request (None without one). ``honour_ranges``: False makes it answer
    every request with the whole file, like servers without Range support.
    """

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    honour_ranges: bool = True


def _handler(server: ArchiveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = server.files.get(self.path)
            requested = self.headers.get("Range")
            server.ranges.append(requested)
            if data is None:
                self.send_error(404)
                return
            start = 0
            if requested and server.honour_ranges:
                start = int(requested.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = server.cut_after.pop(self.path, None)
            self.wfile.write(body if cut is None else body[:cut])
            if cut is not None:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

    return Handler


@pytest.fixture
def archive_server() -> Iterator[ArchiveServer]:
    """An :class:`ArchiveServer` on 127.0.0.1 at a free port, for the length of a test."""
    state = ArchiveServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def archives() -> types.SimpleNamespace:
    """The archive builders of this file: ``zip``, ``tar_gz``, ``dataset`` (members), ``png``."""
    return types.SimpleNamespace(
        zip=zip_bytes, tar_gz=tar_gz_bytes, dataset=dataset_members, png=png_bytes
    )

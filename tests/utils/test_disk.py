import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from unpaired.errors import CheckpointError
from unpaired.utils.disk import (
    PARTIAL_SUFFIX,
    atomic_copy,
    atomic_write,
    ensure_free_space,
    ensure_writable,
    remove_partial_files,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def partial_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f".*{PARTIAL_SUFFIX}"))


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "last.ckpt"
    atomic_write(target, lambda f: f.write(b"first version, long"))
    atomic_write(target, lambda f: f.write(b"second"))
    assert target.read_bytes() == b"second"
    assert partial_files(target.parent) == []


def test_full_disk_during_a_write_keeps_the_previous_file_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "last.ckpt"
    target.write_bytes(b"previous checkpoint")

    def fill_the_disk(file: BinaryIO) -> None:
        file.write(b"half a checkp")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(CheckpointError) as failure:
        atomic_write(target, fill_the_disk)
    message = str(failure.value)
    assert str(target) in message
    assert "No space left on device" in message
    assert "previous last.ckpt is intact" in message
    assert target.read_bytes() == b"previous checkpoint"
    assert partial_files(tmp_path) == []


def test_a_write_killed_midway_leaves_the_previous_file(tmp_path: Path) -> None:
    """SIGKILL a process in the middle of writing: the old file survives whole, and the
    leftover temporary file is cleared by remove_partial_files."""
    target, started = tmp_path / "last.ckpt", tmp_path / "started"
    target.write_bytes(b"previous checkpoint")
    writer = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from unpaired.utils.disk import atomic_write\n"
        "def slow(file):\n"
        "    file.write(b'new but incomplete'); file.flush()\n"
        "    Path(sys.argv[2]).touch()\n"
        "    time.sleep(60)\n"
        "atomic_write(sys.argv[1], slow)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", writer, str(target), str(started)],
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the writer never started writing"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        process.kill()
    assert target.read_bytes() == b"previous checkpoint"
    assert len(partial_files(tmp_path)) == 1
    remove_partial_files(tmp_path)
    assert partial_files(tmp_path) == []


def test_atomic_copy_keeps_its_content_when_the_source_is_replaced(tmp_path: Path) -> None:
    last, kept = tmp_path / "last.ckpt", tmp_path / "epoch0001.ckpt"
    atomic_write(last, lambda f: f.write(b"epoch 1"))
    atomic_copy(last, kept)
    atomic_write(last, lambda f: f.write(b"epoch 2"))
    assert kept.read_bytes() == b"epoch 1"
    assert last.read_bytes() == b"epoch 2"


def test_unwritable_folder_is_reported_with_the_folder_and_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(CheckpointError, match=r"cannot write to .*a_file/checkpoints.*writable"):
        ensure_writable(blocker / "checkpoints")


def test_too_little_free_space_is_reported_before_training(tmp_path: Path) -> None:
    ensure_free_space(tmp_path, 1)
    with pytest.raises(CheckpointError, match=r"MiB free on the disk of .*paths.experiments_dir"):
        ensure_free_space(tmp_path, 2**62)

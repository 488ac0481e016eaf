"""Durable file writes and disk checks: a file is replaced whole or not at all.

A checkpoint is written into a temporary file beside its target, flushed to the disk, and only
then renamed over the target. A rename within one folder is atomic, so a kill, a crash or a full
disk during a save leaves the previous file as it was; at worst a hidden ``.<name>.*.partial``
file remains, which :func:`remove_partial_files` clears at the next start.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from unpaired.errors import CheckpointError

PARTIAL_SUFFIX = ".partial"
_MIB = 2**20


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` by calling ``write`` on a temporary file in the same folder, then rename.

    Raises:
        CheckpointError: the folder cannot be created or written, or the disk is full; the
            previous ``path`` is untouched.
    """
    path = Path(path)
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX
        )
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())  # the data is on disk before the name points at it
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise _write_error(path, error) from error
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def atomic_copy(source: str | Path, target: str | Path) -> None:
    """Give ``target`` the content of ``source`` atomically: a hard link where the file system
    has them (instant, no extra space; a later rename over ``source`` leaves ``target`` as it
    is), else a copy."""
    source, target = Path(source), Path(target)
    temporary = target.with_name(f".{target.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    try:
        temporary.unlink(missing_ok=True)
        try:
            os.link(source, temporary)
        except OSError:  # no hard links here (some network and FUSE file systems)
            shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _write_error(target, error) from error


def remove_partial_files(folder: str | Path) -> None:
    """Delete the temporary files that a write killed before its rename left in ``folder``."""
    for partial in Path(folder).glob(f".*{PARTIAL_SUFFIX}"):
        partial.unlink(missing_ok=True)


def ensure_writable(folder: str | Path) -> None:
    """Create ``folder`` if needed and check that a file can be written in it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise CheckpointError(
            f"cannot write to {folder}: {error.strerror or error}. Make it writable, or point "
            "paths.experiments_dir at a writable folder."
        ) from error


def ensure_free_space(folder: str | Path, needed_bytes: int) -> None:
    """Check that the disk holding ``folder`` has ``needed_bytes`` free."""
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise CheckpointError(
            f"only {free / _MIB:.0f} MiB free on the disk of {folder}, and a checkpoint needs "
            f"about {needed_bytes / _MIB:.0f} MiB. Free some space, or point "
            "paths.experiments_dir at another disk."
        )


def _write_error(path: Path, error: OSError) -> CheckpointError:
    kept = f" The previous {path.name} is intact." if path.exists() else ""
    return CheckpointError(
        f"could not write {path}: {error.strerror or error}.{kept} Free some space or make the "
        "folder writable (or point paths.experiments_dir elsewhere), then resume with resume=auto."
    )

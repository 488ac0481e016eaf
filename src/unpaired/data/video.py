"""Reading and writing video files, with PyAV (FFmpeg's libraries).

torchvision 0.29 no longer has a video reader or writer (``torchvision.io.read_video`` was removed
after its deprecation), so PyAV is the one reader. Its frame threads (``thread_type="AUTO"``)
did not pay on a 2-core CPU: 0.62 s against 0.54 s for 120 frames of 256x256 H.264, so one
thread is the default (measured 2026-11-30, mean of 3 reads, load average near 3).
A file that cannot be decoded raises :class:`~unpaired.errors.BadImageError` naming it, as an
image does.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from unpaired.errors import BadImageError, ConfigError

VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".avi", ".mov", ".webm", ".mkv"})

#: The encoder each container is written with (all in PyAV's wheels): H.264 for MP4, MOV and
#: Matroska, MPEG-4 part 2 for AVI, VP9 for WebM.
_ENCODERS = {
    ".mp4": "libx264",
    ".mov": "libx264",
    ".mkv": "libx264",
    ".avi": "mpeg4",
    ".webm": "libvpx-vp9",
}


def is_video_file(path: Path) -> bool:
    """Whether ``path`` names a video by its extension (any case), hidden files excluded."""
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds: its frame rate, frame size and number of frames."""

    fps: Fraction
    width: int
    height: int
    frames: int


def read_frames(path: Path, threads: bool = False) -> np.ndarray:
    """Every frame of ``path`` as a uint8 array ``T x H x W x 3`` (RGB).

    ``threads``: decode with FFmpeg's frame threads (default: one thread; see the module).

    Raises:
        BadImageError: the file cannot be decoded or holds no video frames.
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if threads:
                stream.thread_type = "AUTO"
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    except (av.FFmpegError, IndexError, OSError) as error:
        raise _bad_video(path, f"{type(error).__name__}: {error}") from error
    if not frames:
        raise _bad_video(path, "no video frames")
    return np.stack(frames)


def video_info(path: Path) -> VideoInfo:
    """The frame rate, size and frame count of ``path`` (the count by decoding, which is exact
    where a container's header is not).

    Raises:
        BadImageError: the file cannot be decoded.
    """
    frames = read_frames(path)
    try:
        with av.open(str(path)) as container:
            rate = container.streams.video[0].average_rate
    except (av.FFmpegError, IndexError, OSError) as error:
        raise _bad_video(path, f"{type(error).__name__}: {error}") from error
    _, height, width, _ = frames.shape
    return VideoInfo(Fraction(rate) if rate else Fraction(0), width, height, len(frames))


def write_video(path: Path, frames: np.ndarray, fps: Fraction | float) -> None:
    """Write uint8 RGB frames ``T x H x W x 3`` to ``path`` at ``fps``, with the encoder of its
    extension (see ``_ENCODERS``), at high quality (H.264 CRF 12). Sizes are kept: H.264's
    4:2:0 sampling wants even sides, so frames of odd sides are written in 4:4:4.

    Raises:
        ConfigError: the extension is not a video container this writes.
    """
    codec = _ENCODERS.get(path.suffix.lower())
    if codec is None:
        raise ConfigError(
            f"cannot write a video to {path}: use one of {', '.join(sorted(_ENCODERS))}, or a "
            "folder to write frames."
        )
    _, height, width, _ = frames.shape
    rate = Fraction(fps).limit_denominator(1001 * 1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        odd = width % 2 or height % 2
        stream.pix_fmt = "yuv444p" if odd and codec == "libx264" else "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "12"}
        for pixels in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _bad_video(path: Path, reason: str) -> BadImageError:
    return BadImageError(
        f"{path} cannot be decoded as a video ({reason}): the file is corrupt, truncated or not "
        "a video. Replace or delete it."
    )

"""Unpaired video: windows of consecutive frames of clips of each domain (Recycle-GAN's data).

A domain's folder (``<root>/<phase>A``, ``<phase>B``, or ``<root>/<phase>/<name>``, as for
images: :func:`unpaired.data.unaligned.domain_folders`) holds its clips as

- folders of frames: ``trainA/<clip>/000001.png ...``, frames in file-name order;
- video files: ``trainA/<clip>.mp4`` (mp4, avi, mov, webm, mkv; :mod:`unpaired.data.video`);
- or, when it holds neither, the Recycle-GAN authors' triplet layout: every image is ``frames``
  consecutive frames side by side (``unaligned_triplet_dataset.py``), one window each.

An item holds, for each domain, a window of ``frames`` consecutive frames of one clip as a
``frames x C x H x W`` tensor (a batch: ``N x frames x C x H x W``), every frame of the window
through the same crop and flip. Windows start at every frame of a clip that leaves room for the
window. Pairing, seeding and ground truth follow :class:`~unpaired.data.unaligned.UnalignedDataset`:
the ground truth of frame ``<clip>/<frame>`` is the file of the same relative path in
``<phase>A_true``/``<phase>B_true`` (frame folders only). Frames that cannot be decoded are left
out of their clip at start-up, with one warning (``data.on_bad_image=warn``) or stop the run
(``error``), as images are; a video file that cannot be decoded is left out the same way. A frame
that stops decoding later (changed on disk) makes its item the next window that decodes, with a
warning, or raises with ``error``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import torch
from PIL import Image
from torch.utils.data import Dataset

from unpaired.data.domains import DomainImages, other_domain
from unpaired.data.folders import check_bad_image_policy, image_folder
from unpaired.data.io import convert_mode, find_images, image_mode, load_image
from unpaired.data.seeding import ItemSeeds
from unpaired.data.transforms import ImageTransform
from unpaired.data.unaligned import LAYOUT_HINT, check_direction, domain_folders, truth_paths
from unpaired.data.video import is_video_file, read_frames
from unpaired.errors import BadImageError, ConfigError, DataError

log = logging.getLogger(__name__)

ClipKind = Literal["frames", "video", "triplet"]


@dataclass(frozen=True)
class Clip:
    """One clip: a folder of ``files`` (frames), a video file, or a triplet image (``path``)."""

    path: Path
    kind: ClipKind
    length: int
    files: tuple[Path, ...] = ()
    truths: tuple[Path, ...] | None = None

    def frame(self, index: int, channels: int, frames_per_image: int) -> Image.Image:
        """Frame ``index`` as a PIL image of ``channels``."""
        if self.kind == "frames":
            return load_image(self.files[index], channels)
        if self.kind == "video":
            return convert_mode(Image.fromarray(_decoded(self.path)[index]), image_mode(channels))
        strip = load_image(self.path, channels)
        width = strip.width // frames_per_image
        return strip.crop((index * width, 0, (index + 1) * width, strip.height))

    def truth(self, index: int, channels: int, frames_per_image: int) -> Image.Image:
        """The true translation of frame ``index`` (frame folders with ground truth only)."""
        assert self.truths is not None
        return load_image(self.truths[index], channels)


@lru_cache(maxsize=4)
def _decoded(path: Path) -> Any:
    """The frames of a video, decoded once per process for the few clips in use."""
    return read_frames(path)


def find_clips(
    folder: Path, frames: int, on_bad_image: str = "warn", truth_folder: Path | None = None
) -> list[Clip]:
    """The clips of a domain folder (see the module), sorted by path; clips shorter than
    ``frames`` are left out with a warning.

    Raises:
        DataError: the folder is missing or holds no clips.
    """
    if not folder.is_dir():
        raise DataError(f"data folder {folder.absolute()} not found. {LAYOUT_HINT}")
    videos = sorted(p for p in folder.iterdir() if p.is_file() and is_video_file(p))
    frame_folders = sorted(
        p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and find_images(p)
    )
    clips: list[Clip] = []
    if not videos and not frame_folders:
        for path in image_folder(folder, on_bad_image=on_bad_image, hint=_CLIP_HINT):
            clips.append(Clip(path, "triplet", frames))
        return clips
    if frame_folders:  # checked in one go (one report per domain), then grouped by clip
        by_clip: dict[Path, list[Path]] = {}
        for path in image_folder(folder, on_bad_image=on_bad_image):
            clip_folder = folder / path.relative_to(folder).parts[0]
            if clip_folder in frame_folders:
                by_clip.setdefault(clip_folder, []).append(path)
        for clip_folder, files in by_clip.items():
            truths = None if truth_folder is None else truth_paths(files, folder, truth_folder)
            clips.append(
                Clip(clip_folder, "frames", len(files), tuple(files), truths and tuple(truths))
            )
    for video in videos:
        try:
            clips.append(Clip(video, "video", len(_decoded(video))))
        except BadImageError as error:
            if check_bad_image_policy(on_bad_image) == "error":
                raise
            log.warning("skipping a clip (data.on_bad_image=warn): %s", error)
    short = [clip for clip in clips if clip.length < frames]
    if short:
        log.warning(
            "leaving out %d clips of %s shorter than data.frames=%d: %s",
            len(short),
            folder,
            frames,
            ", ".join(str(clip.path.name) for clip in short),
        )
    clips = sorted((clip for clip in clips if clip.length >= frames), key=lambda c: c.path)
    if not clips:
        raise DataError(
            f"{folder.absolute()} holds no clip of at least {frames} frames. {_CLIP_HINT}"
        )
    return clips


_CLIP_HINT = (
    "Clips are folders of frames (<domain folder>/<clip>/000001.png ...), video files "
    "(<domain folder>/<clip>.mp4), or images holding data.frames frames side by side."
)


class ClipDataset(Dataset):
    """Windows of ``frames`` consecutive frames of unpaired clips of named domains (see the
    module); the other arguments are those of
    :class:`~unpaired.data.unaligned.UnalignedDataset`."""

    def __init__(
        self,
        root: str | Path,
        phase: str,
        transform: ImageTransform,
        frames: int = 3,
        random_pairing: bool = True,
        channels: int = 3,
        direction: str = "AtoB",
        on_bad_image: str = "warn",
        seed: int | None = None,
        domains: Sequence[str] | None = None,
    ) -> None:
        if frames < 1:
            raise ConfigError(f"data.frames={frames}; set it to at least 1 frame per window.")
        self.root = Path(root)
        self.transform = transform
        self.frames = frames
        self.random_pairing = random_pairing
        self.channels = channels
        self.seeds = ItemSeeds(torch.initial_seed() if seed is None else seed)
        folders = domain_folders(self.root, phase, check_direction(direction), domains)
        truths = {name: folder.with_name(f"{folder.name}_true") for name, folder in folders.items()}
        self.has_ground_truth = (
            not random_pairing
            and len(folders) == 2
            and all(folder.is_dir() for folder in truths.values())
        )
        self.clips = {
            name: find_clips(
                folder, frames, on_bad_image, truths[name] if self.has_ground_truth else None
            )
            for name, folder in folders.items()
        }
        self.windows = {
            name: [
                (c, start)
                for c, clip in enumerate(clips)
                for start in range(clip.length - frames + 1)
            ]
            for name, clips in self.clips.items()
        }
        self.domains = tuple(folders)
        self.on_bad_image = check_bad_image_policy(on_bad_image)
        self._reported: set[str] = set()

    def __len__(self) -> int:
        return max(len(windows) for windows in self.windows.values())

    def set_epoch(self, epoch: int) -> None:
        """Draw the next epoch's pairings, crops and flips (also in running workers)."""
        self.seeds.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        first, *others = self.domains
        item: dict[str, Any] = {}
        with self.seeds.seeded(index):
            for name in self.domains:
                windows = self.windows[name]
                if name != first and self.random_pairing:
                    chosen = int(torch.randint(len(windows), (1,)).item())
                else:
                    chosen = index % len(windows)
                # one seed for the window: every frame gets the same crop and flip
                geometry = int(torch.randint(2**62, (1,)).item())
                target = f"target_{others[0] if name == first else first}"
                item.update(self._first_readable(name, chosen, geometry, target))
        return item

    def _first_readable(
        self, domain: str, chosen: int, geometry: int, target: str
    ) -> dict[str, Any]:
        """Window ``chosen`` of ``domain`` (and its truth under ``target``), or the next window
        whose frames all decode, with a warning (``on_bad_image="error"``: raises)."""
        windows = self.windows[domain]
        for offset in range(len(windows)):
            clip_index, start = windows[(chosen + offset) % len(windows)]
            clip = self.clips[domain][clip_index]
            try:
                loaded = {domain: self._window(start, geometry, clip.frame)}
                if self.has_ground_truth:
                    loaded[target] = self._window(start, geometry, clip.truth)
            except BadImageError as error:
                if self.on_bad_image == "error":
                    raise
                if str(error) not in self._reported:
                    self._reported.add(str(error))
                    log.warning("%s Using the next window (data.on_bad_image=warn).", error)
                continue
            return {**loaded, f"{domain}_path": str(clip.path), f"{domain}_start": start}
        raise DataError(f"no window of domain {domain} can be decoded any more")

    def images_of(self, domain: str) -> DomainImages:
        """Every frame of every clip of ``domain``, one image each (evaluation and FID read
        them so), with its truth where the split has it. Frame ``t`` of clip ``c`` is named
        ``<c>_<t>`` (``clip0003_000007``; a video's name without its suffix): the file names
        listed are those names, not files on disk."""
        clips = self.clips.get(domain)
        if clips is None:
            raise ConfigError(
                f"this data set has the domains {', '.join(self.domains)}, not {domain!r}"
            )
        frames = [(clip, t) for clip in clips for t in range(clip.length)]
        folder = clips[0].path.parent
        names = [folder / f"{clip.path.stem}_{t:06d}.png" for clip, t in frames]

        def load(index: int) -> torch.Tensor:
            clip, t = frames[index]
            return self.transform(clip.frame(t, self.channels, self.frames))

        def load_truth(index: int) -> torch.Tensor:
            clip, t = frames[index]
            return self.transform(clip.truth(t, self.channels, self.frames))

        truths = {other_domain(self.domains, domain): load_truth} if self.has_ground_truth else {}
        starts = itertools.accumulate((clip.length for clip in clips), initial=0)
        ranges = [range(start, end) for start, end in itertools.pairwise(starts)]
        return DomainImages(domain, folder, names, load, truths, ranges)

    def _window(
        self, start: int, geometry: int, frame: Callable[[int, int, int], Image.Image]
    ) -> torch.Tensor:
        """Frames ``start ...`` of a clip (read by ``frame``) through the transform, each with
        the torch RNG seeded by ``geometry``: the same crop and flip for all."""
        window = []
        for index in range(start, start + self.frames):
            image = frame(index, self.channels, self.frames)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(geometry)
                window.append(self.transform(image))
        return torch.stack(window)

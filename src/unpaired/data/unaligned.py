"""The unaligned (unpaired) data set of CycleGAN: images of domain A and of domain B, no pairs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from unpaired.data.domains import DomainImages, other_domain
from unpaired.data.folders import check_bad_image_policy, image_folder
from unpaired.data.io import load_image
from unpaired.data.seeding import ItemSeeds
from unpaired.data.transforms import ImageTransform
from unpaired.errors import BadImageError, ConfigError, DataError

log = logging.getLogger(__name__)

#: ``data.direction``: AtoB keeps the folders' roles, BtoA swaps them.
DIRECTIONS = ("AtoB", "BtoA")

LAYOUT_HINT = (
    "Expected layout: <root>/trainA and <root>/trainB for training, <root>/testA and "
    "<root>/testB for evaluation, each holding image files (optionally <root>/testA_true and "
    "<root>/testB_true with ground-truth translations under the same file names); or one "
    "folder per domain, <root>/train/<domain> and <root>/test/<domain>."
)


def check_direction(direction: str) -> str:
    """``direction`` if it is ``AtoB`` or ``BtoA``.

    Raises:
        ConfigError: it is neither.
    """
    if direction not in DIRECTIONS:
        raise ConfigError(
            f"data.direction={direction!r} is not an option; use AtoB, or BtoA to swap the "
            "domains (the folders ...B become domain A and ...A domain B)."
        )
    return direction


@dataclass(frozen=True)
class Domain:
    """The images of one domain, and their ground-truth translations if the set has them."""

    folder: Path
    paths: list[Path]
    truths: list[Path] | None = None

    def files(self, index: int) -> list[Path]:
        """Image ``index`` and, if there are truths, its truth."""
        path = self.paths[index]
        return [path] if self.truths is None else [path, self.truths[index]]


class UnalignedDataset(Dataset):
    """Unpaired images of named domains, paired at random as the CycleGAN authors pair them.

    Layouts of ``root`` (:func:`domain_folders`):

    - the authors' two folders: ``<phase>A/`` and ``<phase>B/``, domains ``A`` and ``B``
      (``direction="BtoA"`` swaps them: ``<phase>B/`` becomes domain A);
    - one folder per domain: ``<phase>/<name>/`` (``train/cat/``, ``train/dog/``), domains named
      after the folders.

    ``domains`` chooses which domains, in which order (None: A and B, or every folder of the
    second layout, sorted). Item ``i`` holds image ``i % |D0|`` of the first domain and, of every
    other domain, an image drawn uniformly at random (``random_pairing``, training) or image
    ``i % |D|`` (fixed pairing, evaluation), each under its domain's name, with its file under
    ``<name>_path``. The length is that of the largest domain, so one epoch shows every image of
    it once. The random draws of an item (its partners, crop and flip) depend only on ``seed``,
    the epoch (:meth:`set_epoch`) and ``i``: see :mod:`unpaired.data.seeding`. ``seed`` defaults
    to the torch RNG's initial seed, the run's seed once Lightning's ``seed_everything`` has run.

    Ground truth (the built-in synthetic set, two-folder layout): when pairing is fixed and both
    ``root/<phase>A_true`` and ``root/<phase>B_true`` exist, item ``i`` also holds ``target_B``
    (the true translation of its A image into domain B, the file of the same relative path in
    ``<phase>A_true``) and ``target_A`` (the same for its B image, from ``<phase>B_true``). Image
    and truth go through two calls of ``transform``; they line up only because evaluation
    transforms are deterministic (``train=False``), which is why truths are never loaded with
    random pairing, the training setting.

    Images that cannot be decoded are dropped at start-up (see
    :func:`unpaired.data.folders.image_folder`). One that fails later (changed on disk during the
    run) is replaced by the next image of its domain that decodes, with a warning, or raises with
    ``on_bad_image="error"``.
    """

    def __init__(
        self,
        root: str | Path,
        phase: str,
        transform: ImageTransform,
        max_dataset_size: int | None = None,
        random_pairing: bool = True,
        channels: int = 3,
        direction: str = "AtoB",
        on_bad_image: str = "warn",
        seed: int | None = None,
        domains: Sequence[str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.transform = transform
        self.random_pairing = random_pairing
        self.channels = channels
        self.on_bad_image = check_bad_image_policy(on_bad_image)
        self.seeds = ItemSeeds(torch.initial_seed() if seed is None else seed)
        folders = domain_folders(self.root, phase, check_direction(direction), domains)
        options = dict(
            max_count=max_dataset_size,
            on_bad_image=on_bad_image,
            min_side=transform.min_input_side,
            hint=LAYOUT_HINT,
        )
        paths = {name: image_folder(folder, **options) for name, folder in folders.items()}
        truths = {name: folder.with_name(f"{folder.name}_true") for name, folder in folders.items()}
        self.has_ground_truth = (
            not random_pairing
            and len(folders) == 2
            and all(folder.is_dir() for folder in truths.values())
        )
        self.images = {
            name: Domain(folder, paths[name], self._truths(paths[name], folder, truths[name]))
            for name, folder in folders.items()
        }
        self.domains = tuple(folders)
        self._reported: set[str] = set()

    def __len__(self) -> int:
        return max(len(domain.paths) for domain in self.images.values())

    def set_epoch(self, epoch: int) -> None:
        """Draw the next epoch's pairings, crops and flips (also in running workers)."""
        self.seeds.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        first, *others = self.domains
        item: dict[str, Any] = {}
        loaded: dict[str, list[torch.Tensor]] = {}
        with self.seeds.seeded(index):
            # the partners first, then each image's own draws (crop, flip), in domain order
            wanted = {
                name: int(torch.randint(len(self.images[name].paths), (1,)).item())
                if name != first and self.random_pairing
                else index % len(self.images[name].paths)
                for name in self.domains
            }
            for name in self.domains:
                chosen, loaded[name] = self._load(self.images[name], wanted[name])
                item[name] = loaded[name][0]
                item[f"{name}_path"] = str(self.images[name].paths[chosen])
        if self.has_ground_truth:  # the truth of each image is its translation into the other
            (other,) = others
            item[f"target_{other}"] = loaded[first][1]
            item[f"target_{first}"] = loaded[other][1]
        return item

    def images_of(self, domain: str) -> DomainImages:
        """The images of ``domain`` (one of :attr:`domains`), through this split's transform,
        with their truths where the split has them."""
        images = self.images.get(domain)
        if images is None:
            raise ConfigError(
                f"this data set has the domains {', '.join(self.domains)}, not {domain!r}"
            )

        def load(paths: list[Path]) -> Callable[[int], torch.Tensor]:
            return lambda index: self.transform(load_image(paths[index], self.channels))

        truths: dict[str, Callable[[int], torch.Tensor]] = {}
        if images.truths is not None:
            truths[other_domain(self.domains, domain)] = load(images.truths)
        return DomainImages(domain, images.folder, images.paths, load(images.paths), truths)

    def _truths(self, paths: list[Path], folder: Path, truth_folder: Path) -> list[Path] | None:
        return truth_paths(paths, folder, truth_folder) if self.has_ground_truth else None

    def _load(self, domain: Domain, index: int) -> tuple[int, list[torch.Tensor]]:
        """Image ``index`` of ``domain`` (and its truth) as tensors, or the next that decodes."""
        for offset in range(len(domain.paths)):
            candidate = (index + offset) % len(domain.paths)
            try:
                return candidate, [
                    self.transform(load_image(path, self.channels))
                    for path in domain.files(candidate)
                ]
            except BadImageError as error:
                if self.on_bad_image == "error":
                    raise
                self._report_once(error)
        raise DataError(f"none of the images in {domain.folder.absolute()} can be decoded any more")

    def _report_once(self, error: BadImageError) -> None:
        """Warn about a file that stopped decoding, once per file and process."""
        if str(error) not in self._reported:
            self._reported.add(str(error))
            log.warning("%s Using the next image instead (data.on_bad_image=warn).", error)


def domain_folders(
    root: Path, phase: str, direction: str = "AtoB", domains: Sequence[str] | None = None
) -> dict[str, Path]:
    """The folder of each domain of ``root``'s ``phase`` split (see :class:`UnalignedDataset`
    for the two layouts), for the ``domains`` asked for (None: all, A and B first).

    Raises:
        DataError: neither layout is there (the message says what was expected).
        ConfigError: a domain asked for is not there (the message lists those that are).
    """
    first, second = ("A", "B") if direction == "AtoB" else ("B", "A")
    two_folders = {"A": root / f"{phase}{first}", "B": root / f"{phase}{second}"}
    split = root / phase
    if any(folder.is_dir() for folder in two_folders.values()) or not split.is_dir():
        available = two_folders  # a missing one is reported by image_folder, naming it
    else:
        subfolders = sorted(p for p in split.iterdir() if p.is_dir() and not p.name.startswith("."))
        available = {folder.name: folder for folder in subfolders}
        if not available:
            raise DataError(f"{split.absolute()} holds no domain folders. {LAYOUT_HINT}")
    if domains is None:
        return available
    unknown = [name for name in domains if name not in available]
    if unknown or len(set(domains)) != len(domains) or not domains:
        raise ConfigError(
            f"data.domains={list(domains)}: the {phase} split of {root} has the domains "
            f"{', '.join(available)}; list each of those you want once."
        )
    return {name: available[name] for name in domains}


def truth_paths(images: list[Path], folder: Path, truth_folder: Path) -> list[Path]:
    """The ground-truth file of each image: the same relative path under ``truth_folder``."""
    truths = [truth_folder / path.relative_to(folder) for path in images]
    missing = [path for path in truths if not path.is_file()]
    if missing:
        raise DataError(
            f"{len(missing)} ground-truth files are missing, e.g. {missing[0].absolute()}: every "
            f"image in {folder.absolute()} needs a file of the same name in {truth_folder}. "
            "Add them, or remove the folder to evaluate without ground truth."
        )
    return truths

"""The unaligned (unpaired) data set of CycleGAN: images of domain A and of domain B, no pairs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from unpaired.data.domains import DomainImages
from unpaired.data.folders import check_bad_image_policy, image_folder
from unpaired.data.io import load_image
from unpaired.data.seeding import ItemSeeds
from unpaired.data.transforms import ImageTransform
from unpaired.errors import BadImageError, ConfigError, DataError
from unpaired.models.base import DIRECTIONS

log = logging.getLogger(__name__)

LAYOUT_HINT = (
    "Expected layout: <root>/trainA and <root>/trainB for training, <root>/testA and "
    "<root>/testB for evaluation, each holding image files (optionally <root>/testA_true and "
    "<root>/testB_true with ground-truth translations under the same file names)."
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
    """Images from ``root/<phase>A`` and ``root/<phase>B``, as the CycleGAN authors pair them.

    Item ``i`` holds A image ``i % |A|`` and a B image drawn uniformly at random
    (``random_pairing``, training) or B image ``i % |B|`` (fixed pairing, evaluation). The length
    is ``max(|A|, |B|)``, so one epoch shows every image of the larger domain once. The random
    draws of an item (its B partner, crop and flip) depend only on ``seed``, the epoch
    (:meth:`set_epoch`) and ``i``: see :mod:`unpaired.data.seeding`. ``seed`` defaults to the
    torch RNG's initial seed, the run's seed once Lightning's ``seed_everything`` has run.

    ``direction="BtoA"`` swaps the domains: ``root/<phase>B`` becomes domain A, ``root/<phase>A``
    domain B, and so do their ground truths.

    Ground truth: when pairing is fixed and both ``root/<phase>A_true`` and ``root/<phase>B_true``
    exist, item ``i`` also holds ``target_B`` (the true translation of its A image into domain B,
    the file of the same relative path in ``<phase>A_true``) and ``target_A`` (the same for its B
    image, from ``<phase>B_true``). Image and truth go through two calls of ``transform``; they
    line up only because evaluation transforms are deterministic (``train=False``), which is why
    truths are never loaded with random pairing, the training setting.

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
    ) -> None:
        self.root = Path(root)
        self.transform = transform
        self.random_pairing = random_pairing
        self.channels = channels
        self.on_bad_image = check_bad_image_policy(on_bad_image)
        self.seeds = ItemSeeds(torch.initial_seed() if seed is None else seed)
        first, second = ("A", "B") if check_direction(direction) == "AtoB" else ("B", "A")
        options = dict(
            max_count=max_dataset_size,
            on_bad_image=on_bad_image,
            min_side=transform.min_input_side,
            hint=LAYOUT_HINT,
        )
        folder_A, folder_B = (self.root / f"{phase}{name}" for name in (first, second))
        paths_A, paths_B = (image_folder(folder, **options) for folder in (folder_A, folder_B))
        truth_A, truth_B = (self.root / f"{phase}{name}_true" for name in (first, second))
        self.has_ground_truth = not random_pairing and truth_A.is_dir() and truth_B.is_dir()
        self.A = Domain(folder_A, paths_A, self._truths(paths_A, folder_A, truth_A))
        self.B = Domain(folder_B, paths_B, self._truths(paths_B, folder_B, truth_B))
        self._reported: set[str] = set()

    @property
    def A_paths(self) -> list[Path]:
        return self.A.paths

    @property
    def B_paths(self) -> list[Path]:
        return self.B.paths

    def __len__(self) -> int:
        return max(len(self.A.paths), len(self.B.paths))

    def images_of(self, domain: str) -> DomainImages:
        """The images of ``domain`` (``"A"`` or ``"B"``, after ``direction``), through this
        split's transform, with their truths where the split has them."""
        images = {"A": self.A, "B": self.B}.get(domain)
        if images is None:
            raise ConfigError(f"this data set has the domains A and B, not {domain!r}")

        def load(paths: list[Path]) -> Callable[[int], torch.Tensor]:
            return lambda index: self.transform(load_image(paths[index], self.channels))

        truths = None if images.truths is None else load(images.truths)
        return DomainImages(domain, images.folder, images.paths, load(images.paths), truths)

    def set_epoch(self, epoch: int) -> None:
        """Draw the next epoch's pairings, crops and flips (also in running workers)."""
        self.seeds.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        with self.seeds.seeded(index):
            if self.random_pairing:
                index_B = int(torch.randint(len(self.B.paths), (1,)).item())
            else:
                index_B = index % len(self.B.paths)
            index_A, loaded_A = self._load(self.A, index % len(self.A.paths))
            index_B, loaded_B = self._load(self.B, index_B)
        item: dict[str, Any] = {
            "A": loaded_A[0],
            "B": loaded_B[0],
            "A_path": str(self.A.paths[index_A]),
            "B_path": str(self.B.paths[index_B]),
        }
        if self.has_ground_truth:
            item["target_B"] = loaded_A[1]  # the truth of A is its translation into B
            item["target_A"] = loaded_B[1]
        return item

    def _truths(self, paths: list[Path], folder: Path, truth_folder: Path) -> list[Path] | None:
        return _truth_paths(paths, folder, truth_folder) if self.has_ground_truth else None

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


def _truth_paths(images: list[Path], folder: Path, truth_folder: Path) -> list[Path]:
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

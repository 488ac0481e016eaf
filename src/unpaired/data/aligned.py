"""Aligned (paired) data for pix2pix: each file holds an A image and its B image side by side.

The layout of the pix2pix authors' data sets (facades, maps, cityscapes, edges2shoes, ...)::

    root/train/*.jpg   training pairs, each image A | B (left half A, right half B)
    root/test/*.jpg    evaluation pairs (validation and the ground-truth report)

The two halves get the same random crop and flip, so they stay aligned pixel for pixel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import Dataset

from unpaired.data import synthetic
from unpaired.data.datamodule import SyntheticDataModule, UnpairedDataModule
from unpaired.data.domains import DomainImages
from unpaired.data.folders import image_folder
from unpaired.data.io import load_image
from unpaired.data.seeding import ItemSeeds
from unpaired.data.unaligned import check_direction
from unpaired.errors import ConfigError, DataError

ALIGNED_LAYOUT_HINT = (
    "Expected layout: <root>/train for training and <root>/test for evaluation, each holding "
    "image files that show an A image and its B image side by side (A on the left half, B on "
    "the right half)."
)


class AlignedDataset(Dataset):
    """Pairs from the images in ``root/<phase>``: the left half is A, the right half B.

    With ``direction="BtoA"`` the halves swap roles: the right half becomes ``"A"`` (the input)
    and the left half ``"B"``. Both halves go through ``transform`` with the same random draws
    (the torch RNG is replayed for the second half), so a random crop and flip are the same on
    both. An odd width leaves the extra column to the right half, as the authors' split does.

    Items hold ``"A"``, ``"B"``, ``"A_path"``, ``"B_path"`` (both the pair's file); with
    ``ground_truth`` also ``"target_B"`` (= B, the true translation of A) and ``"target_A"``
    (= A), for the ground-truth metrics.
    """

    def __init__(
        self,
        root: str | Path,
        phase: str,
        transform: Callable[[Image.Image], torch.Tensor],
        max_dataset_size: int | None = None,
        direction: str = "AtoB",
        channels: int = 3,
        ground_truth: bool = False,
        on_bad_image: str = "warn",
        seed: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.phase = phase
        self.transform = transform
        self.direction = check_direction(direction)
        self.channels = channels
        self.has_ground_truth = ground_truth
        # Missing or empty folders and undecodable files are found here, at start-up.
        self.paths = image_folder(
            self.root / phase,
            max_count=max_dataset_size,
            on_bad_image=on_bad_image,
            hint=ALIGNED_LAYOUT_HINT,
        )
        self.seeds = ItemSeeds(torch.initial_seed() if seed is None else seed)

    #: The two halves of every pair.
    domains = ("A", "B")

    def __len__(self) -> int:
        return len(self.paths)

    def set_epoch(self, epoch: int) -> None:
        self.seeds.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        with self.seeds.seeded(index):  # the crop and flip depend on (seed, epoch, index) only
            return self._pair(index)

    def images_of(self, domain: str) -> DomainImages:
        """The ``domain`` halves (``"A"`` or ``"B"``, after ``direction``) of this split's pairs,
        through its transform; the truth of each is the other half of its pair."""
        if domain not in ("A", "B"):
            raise ConfigError(f"aligned data has the domains A and B, not {domain!r}")
        own, other = (0, 1) if domain == "A" else (1, 0)
        return DomainImages(
            domain,
            self.root / self.phase,
            self.paths,
            lambda index: self._pair_images(index)[own],
            {self.domains[other]: lambda index: self._pair_images(index)[other]},
        )

    def _pair(self, index: int) -> dict[str, Any]:
        path = self.paths[index]
        A, B = self._pair_images(index)
        item: dict[str, Any] = {"A": A, "B": B, "A_path": str(path), "B_path": str(path)}
        if self.has_ground_truth:
            item["target_B"] = B
            item["target_A"] = A
        return item

    def _pair_images(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The A and B images of pair ``index``, transformed with the same random draws."""
        path = self.paths[index]
        left, right = self._halves(path)
        if self.direction == "BtoA":
            left, right = right, left
        rng_state = torch.get_rng_state()
        A = self._transform(left, path)
        torch.set_rng_state(rng_state)  # the same crop and flip for the other half
        return A, self._transform(right, path)

    def _halves(self, path: Path) -> tuple[Image.Image, Image.Image]:
        pair = load_image(path, self.channels)
        width, height = pair.size
        if width < 2:
            raise DataError(
                f"{path}: an aligned pair must hold two images side by side, but it is only "
                f"{width} pixel wide."
            )
        half = width // 2
        return pair.crop((0, 0, half, height)), pair.crop((half, 0, width, height))

    def _transform(self, image: Image.Image, path: Path) -> torch.Tensor:
        try:
            return self.transform(image)
        except DataError as error:
            raise DataError(f"{path}: {error}") from error


class AlignedDataModule(UnpairedDataModule):
    """Aligned pairs in ``root/train`` (training) and ``root/test`` (validation), for pix2pix.

    Everything but the data set is :class:`~unpaired.data.datamodule.UnpairedDataModule`'s: the
    same arguments (load/crop size, preprocess, flip, batch sizes, workers), the same random
    training transform (shared by the two halves of a pair) and deterministic validation
    transform. Validation items carry their true translations (``target_B`` = B), so the
    ground-truth metrics measure a paired method directly.

    ``direction``: ``AtoB`` (left half is the input A) or ``BtoA`` (right half is the input).
    """

    def missing_hint(self) -> str:
        return self.download_hint or f"{ALIGNED_LAYOUT_HINT} Point data.root at such a folder."

    def setup(self, stage: str | None = None) -> None:
        if self._domains not in (None, AlignedDataset.domains):
            raise ConfigError(
                f"data.domains={list(self._domains)}: aligned pairs have the domains A (the "
                "input half) and B; use data.direction to choose which half is which."
            )
        super().setup(stage)

    def _dataset(self, phase: str, transform: Any, random_pairing: bool) -> AlignedDataset:
        # The base asks for random pairing when it builds the training set: aligned data has
        # fixed pairs, and keeps the true translations for evaluation only.
        return AlignedDataset(
            self.root,
            phase,
            transform,
            max_dataset_size=self.max_dataset_size,
            direction=self.direction,
            channels=self.channels,
            ground_truth=not random_pairing,
            on_bad_image=self.on_bad_image,
            seed=self._run_seed(),
        )


class SyntheticAlignedDataModule(SyntheticDataModule, AlignedDataModule):
    """The paired version of the built-in synthetic set (see :mod:`unpaired.data.synthetic`),
    generated into ``root`` on first use: ``train/`` and ``test/`` hold A | B renderings of the
    same scenes. Arguments: those of :class:`~unpaired.data.datamodule.SyntheticDataModule`
    (the set) and of :class:`AlignedDataModule` (``direction`` and the loading options).
    """

    def prepare_data(self) -> None:
        synthetic.ensure(self.root, self.spec, aligned=True)

"""The unaligned (unpaired) data set of CycleGAN: images of domain A and of domain B, no pairs."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import Dataset

from unpaired.data.io import find_images, load_image
from unpaired.errors import DataError

LAYOUT_HINT = (
    "Expected layout: <root>/trainA and <root>/trainB for training, <root>/testA and "
    "<root>/testB for evaluation, each holding image files (optionally <root>/testA_true and "
    "<root>/testB_true with ground-truth translations under the same file names)."
)


class UnalignedDataset(Dataset):
    """Images from ``root/<phase>A`` and ``root/<phase>B``, as the CycleGAN authors pair them.

    Item ``i`` holds A image ``i % |A|`` and a B image drawn uniformly at random with the torch
    RNG (``random_pairing``, training) or B image ``i % |B|`` (fixed pairing, evaluation). The
    length is ``max(|A|, |B|)``, so one epoch shows every image of the larger domain once.

    Ground truth: when pairing is fixed and both ``root/<phase>A_true`` and ``root/<phase>B_true``
    exist, item ``i`` also holds ``target_B`` (the true translation of its A image into domain B,
    the file of the same relative path in ``<phase>A_true``) and ``target_A`` (the same for its B
    image, from ``<phase>B_true``). Image and truth go through two calls of ``transform``; they
    line up only because evaluation transforms are deterministic (``train=False``), which is why
    truths are never loaded with random pairing, the training setting.
    """

    def __init__(
        self,
        root: str | Path,
        phase: str,
        transform: Callable[[Image.Image], torch.Tensor],
        max_dataset_size: int | None = None,
        random_pairing: bool = True,
        channels: int = 3,
    ) -> None:
        self.root = Path(root)
        self.transform = transform
        self.random_pairing = random_pairing
        self.channels = channels
        self.A_paths = _domain_images(self.root / f"{phase}A", max_dataset_size)
        self.B_paths = _domain_images(self.root / f"{phase}B", max_dataset_size)
        truth_A = self.root / f"{phase}A_true"
        truth_B = self.root / f"{phase}B_true"
        self.has_ground_truth = not random_pairing and truth_A.is_dir() and truth_B.is_dir()
        if self.has_ground_truth:
            self.A_truth_paths = _truth_paths(self.A_paths, self.root / f"{phase}A", truth_A)
            self.B_truth_paths = _truth_paths(self.B_paths, self.root / f"{phase}B", truth_B)

    def __len__(self) -> int:
        return max(len(self.A_paths), len(self.B_paths))

    def __getitem__(self, index: int) -> dict[str, Any]:
        index_A = index % len(self.A_paths)
        if self.random_pairing:
            index_B = int(torch.randint(len(self.B_paths), (1,)).item())
        else:
            index_B = index % len(self.B_paths)
        A_path, B_path = self.A_paths[index_A], self.B_paths[index_B]
        item: dict[str, Any] = {
            "A": self._load(A_path),
            "B": self._load(B_path),
            "A_path": str(A_path),
            "B_path": str(B_path),
        }
        if self.has_ground_truth:
            item["target_B"] = self._load(self.A_truth_paths[index_A])
            item["target_A"] = self._load(self.B_truth_paths[index_B])
        return item

    def _load(self, path: Path) -> torch.Tensor:
        try:
            return self.transform(load_image(path, self.channels))
        except DataError as error:
            raise DataError(f"{path}: {error}") from error


def _domain_images(folder: Path, max_dataset_size: int | None) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"data folder {folder.absolute()} not found. {LAYOUT_HINT}")
    paths = find_images(folder, max_dataset_size)
    if not paths:
        raise DataError(f"data folder {folder.absolute()} holds no image files. {LAYOUT_HINT}")
    return paths


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

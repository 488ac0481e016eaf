"""Every image of one folder, for inference: translate a folder of your own images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from unpaired.data.folders import image_folder
from unpaired.data.io import check_image, image_mode, load_image
from unpaired.data.transforms import ImageTransform


class SingleImageDataset(Dataset):
    """The images under ``folder`` (recursively, sorted), one item each; ``folder`` may also be
    one image file, for a dataset of that image alone.

    Item ``i``: ``image`` (the transformed image, ``channels x H x W`` in [-1, 1]), ``path`` (the
    file's path relative to ``folder``, to write the result under the same name) and ``size``
    (the image's upright ``[height, width]`` before the transform, to restore it afterwards).

    ``transform`` should be deterministic (``build_transform(..., train=False)``); by default
    the image keeps its own size, which a generator takes through
    :func:`unpaired.data.padding.run_padded`. Images of different sizes do not stack into one
    batch: use batch size 1, or a transform that gives one size.

    Images that cannot be decoded are dropped at start-up with a warning (``on_bad_image="warn"``)
    or stop it (``"error"``); one that fails later raises, as substituting another image would
    write a result under the wrong name.
    """

    def __init__(
        self,
        folder: str | Path,
        transform: ImageTransform | None = None,
        channels: int = 3,
        max_dataset_size: int | None = None,
        on_bad_image: str = "warn",
    ) -> None:
        self.folder = Path(folder)
        self.channels = channels
        self.transform = transform or ImageTransform(image_mode(channels), steps=[])
        if self.folder.is_file():
            check_image(self.folder)  # a bad file raises, naming itself
            self.folder, self.paths = self.folder.parent, [self.folder]
            return
        self.paths = image_folder(
            self.folder,
            max_count=max_dataset_size,
            on_bad_image=on_bad_image,
            min_side=self.transform.min_input_side,
            hint="Point it at a folder of images (searched recursively).",
        )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.paths[index]
        image = load_image(path, self.channels)
        return {
            "image": self.transform(image),
            "path": path.relative_to(self.folder).as_posix(),
            "size": torch.tensor([image.height, image.width]),
        }

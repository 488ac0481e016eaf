"""The images of one domain in one split: what evaluation reads from any data set.

An unaligned set keeps a domain's images in a folder of their own (``testA/``); an aligned set keeps
them as one half of each pair file (``test/``, A | B). Evaluation (``unpaired-evaluate``, the
training-time FID) asks every data set the same question, ``dataset.images_of("A")``, and gets a
:class:`DomainImages` either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from torch import Tensor


@dataclass(frozen=True)
class DomainImages:
    """The images of one domain in one split, read one at a time after the split's transform.

    Attributes:
        name: the domain (``"A"`` or ``"B"``).
        source: where they come from (a domain folder, or the folder of aligned pairs).
        files: the file each image comes from; images are named after them.
        load: image ``i`` as a tensor in [-1, 1].
        load_truth: the true translation of image ``i`` into the other domain, where the data
            set knows it (the synthetic set's ``test<X>_true/``, the other half of a pair).
        clips: for frames of clips, the indices of each clip's frames in order (evaluation
            measures the temporal error over them); None for still images.
    """

    name: str
    source: Path
    files: Sequence[Path]
    load: Callable[[int], Tensor]
    load_truth: Callable[[int], Tensor] | None = None
    clips: Sequence[Sequence[int]] | None = None

    def __len__(self) -> int:
        return len(self.files)

    def stem(self, index: int) -> str:
        """The name image ``index`` is saved under (its file's, without the suffix)."""
        return self.files[index].stem

    @property
    def has_truth(self) -> bool:
        return self.load_truth is not None

    def truth(self, index: int) -> Tensor:
        if self.load_truth is None:
            raise ValueError(f"the images of domain {self.name} in {self.source} have no truth")
        return self.load_truth(index)


class HasDomainImages(Protocol):
    """A data set that can list the images of each of its domains."""

    def images_of(self, domain: str) -> DomainImages: ...

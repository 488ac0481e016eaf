"""The images of one domain in one split: what evaluation reads from any data set.

An unaligned set keeps a domain's images in a folder of their own (``testA/``); an aligned set keeps
them as one half of each pair file (``test/``, A | B). Evaluation (``unpaired-evaluate``, the
training-time FID) asks every data set the same question, ``dataset.images_of("A")``, and gets a
:class:`DomainImages` either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
        load_truths: per target domain, the true translation of image ``i`` into it, for the
            targets the data set knows it of: the other domain of a two-domain set (the
            synthetic set's ``test<X>_true/``, the other half of a pair), every other domain of
            the three-style set (its image ``i``).
        clips: for frames of clips, the indices of each clip's frames in order (evaluation
            measures the temporal error over them); None for still images.
    """

    name: str
    source: Path
    files: Sequence[Path]
    load: Callable[[int], Tensor]
    load_truths: Mapping[str, Callable[[int], Tensor]] = field(default_factory=dict)
    clips: Sequence[Sequence[int]] | None = None

    def __len__(self) -> int:
        return len(self.files)

    def stem(self, index: int) -> str:
        """The name image ``index`` is saved under (its file's, without the suffix)."""
        return self.files[index].stem

    def has_truth_for(self, target: str) -> bool:
        """Whether the true translation of these images into domain ``target`` is known."""
        return target in self.load_truths

    def truth(self, index: int, target: str) -> Tensor:
        """The true translation of image ``index`` into domain ``target``."""
        load = self.load_truths.get(target)
        if load is None:
            known = ", ".join(self.load_truths) or "none"
            raise ValueError(
                f"the images of domain {self.name} in {self.source} have no truth in domain "
                f"{target} (truths known in: {known})"
            )
        return load(index)


class HasDomainImages(Protocol):
    """A data set that can list the images of each of its domains."""

    def images_of(self, domain: str) -> DomainImages: ...


def other_domain(domains: Sequence[str], domain: str) -> str:
    """The domain of a two-domain set that is not ``domain``: where its truths translate to."""
    (other,) = (name for name in domains if name != domain)
    return other

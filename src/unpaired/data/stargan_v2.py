"""StarGAN v2's data, as the authors' ``core/data_loader.py`` feeds it.

Training: the authors keep two loaders over the training images of every domain, each drawing
images with a domain-balanced sampler (every domain equally often, then any of its images): a
source loader (image, domain) and a reference loader (image, a second image of the same domain,
domain). :class:`ReferenceSampledDataset` draws one of each per item, from the item's seed.
Their training transform: with probability ``randcrop_prob`` a random resized crop (scale 0.8
to 1, aspect ratio 0.9 to 1.1), then a resize to the image size, a random horizontal flip, and
[-1, 1]. Evaluation: the ordinary batches of one image per domain, resized to the image size.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import permutations
from typing import Any

import torch
from torchvision.transforms import RandomResizedCrop
from torchvision.transforms.v2 import functional as F

from unpaired.data import synthetic, synthetic_styles
from unpaired.data.datamodule import UnpairedDataModule
from unpaired.data.domains import DomainImages
from unpaired.data.io import image_mode
from unpaired.data.transforms import ImageTransform, RandomHorizontalFlip, Step
from unpaired.data.unaligned import UnalignedDataset
from unpaired.errors import ConfigError

_BILINEAR = F.InterpolationMode.BILINEAR


class SometimesResizedCrop:
    """With probability ``prob``, a random resized crop to ``size`` (torchvision's, scale 0.8-1,
    ratio 0.9-1.1, bilinear); otherwise the image as it is. Draws from the torch RNG."""

    def __init__(self, size: int, prob: float) -> None:
        self.size = size
        self.prob = prob

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if torch.rand(1).item() >= self.prob:
            return image
        top, left, height, width = RandomResizedCrop.get_params(image, [0.8, 1.0], [0.9, 1.1])
        return F.resized_crop(image, top, left, height, width, [self.size, self.size], _BILINEAR)


class BilinearResize:
    """Square resize to ``size`` (bilinear, antialiased: torchvision's ``Resize`` on images)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return F.resize(image, [self.size, self.size], _BILINEAR, antialias=True)


def authors_train_transform(
    img_size: int, randcrop_prob: float, channels: int = 3
) -> ImageTransform:
    """The authors' training transform (see the module docstring)."""
    if not 0.0 <= randcrop_prob <= 1.0:
        raise ConfigError(f"data.randcrop_prob={randcrop_prob} must be in [0, 1].")
    steps: list[Step] = [
        SometimesResizedCrop(img_size, randcrop_prob),
        BilinearResize(img_size),
        RandomHorizontalFlip(),
    ]
    return ImageTransform(image_mode(channels), steps)


class ReferenceSampledDataset(UnalignedDataset):
    """Training items of the authors' two loaders: ``source`` (an image) and ``source_domain``
    (its domain's index), ``reference`` and ``reference2`` (two images of one domain) and
    ``reference_domain``. Each draws a domain uniformly, then one of its images uniformly, as
    their balanced sampler does; the draws depend only on the run's seed, the epoch and the
    index (:mod:`unpaired.data.seeding`). An epoch has as many items as there are images in all."""

    def __len__(self) -> int:
        return sum(len(domain.paths) for domain in self.images.values())

    def __getitem__(self, index: int) -> dict[str, Any]:
        with self.seeds.seeded(index):
            source_domain = self._draw_domain()
            source = self._draw_image(source_domain)
            reference_domain = self._draw_domain()
            reference = self._draw_image(reference_domain)
            reference2 = self._draw_image(reference_domain)
        return {
            "source": source,
            "source_domain": torch.tensor(source_domain),
            "reference": reference,
            "reference2": reference2,
            "reference_domain": torch.tensor(reference_domain),
        }

    def _draw_domain(self) -> int:
        return int(torch.randint(len(self.domains), (1,)).item())

    def _draw_image(self, domain: int) -> torch.Tensor:
        images = self.images[self.domains[domain]]
        _, (image, *_) = self._load(images, int(torch.randint(len(images.paths), (1,)).item()))
        return image


class StarGANv2DataModule(UnpairedDataModule):
    """One folder per domain (``train/<domain>/``, ``test/<domain>/``: the AFHQ and CelebA-HQ
    layout) fed as the StarGAN v2 authors do: training items from
    :class:`ReferenceSampledDataset` through :func:`authors_train_transform`, evaluation batches
    of one image per domain resized to ``img_size``.

    Args:
        img_size: the square size images are resized to.
        randcrop_prob: the probability of the random resized crop in training.
        test_split: the folder of the evaluation images (``val`` in the authors' archives).
        kwargs: those of :class:`~unpaired.data.datamodule.UnpairedDataModule` but the sizes
            and the preprocessing, which ``img_size`` sets.
    """

    def __init__(
        self,
        root: str,
        img_size: int = 256,
        randcrop_prob: float = 0.5,
        test_split: str = "test",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            root, load_size=img_size, crop_size=img_size, preprocess="resize_and_crop", **kwargs
        )
        self.train_transform = authors_train_transform(img_size, randcrop_prob, self.channels)
        self.test_split = test_split

    def _dataset(self, phase: str, transform: ImageTransform, random_pairing: bool) -> Any:
        if not random_pairing:
            phase = self.test_split if phase == "test" else phase
            return super()._dataset(phase, transform, random_pairing)
        return ReferenceSampledDataset(
            self.root,
            phase,
            transform,
            max_dataset_size=self.max_dataset_size,
            channels=self.channels,
            on_bad_image=self.on_bad_image,
            seed=self._run_seed(),
            domains=self._domains,
        )


class SameScenesTestSet(UnalignedDataset):
    """Test images of several domains that show the same scenes, image ``i`` of every domain
    scene ``i`` (the multi-domain synthetic set): item ``i`` holds, for every two domains
    ``X`` and ``Y``, the truth of translating its ``X`` image into ``Y``, ``target_X_to_Y``,
    which is its ``Y`` image; and the images of ``X`` (:meth:`images_of`, what evaluation reads)
    hold their truths in every other domain the same way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counts = {name: len(domain.paths) for name, domain in self.images.items()}
        if self.random_pairing or len(set(counts.values())) != 1:
            raise ConfigError(
                f"the test images of {self.root} do not line up by index ({counts}): every "
                "domain needs the same number of images, paired by index."
            )

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = super().__getitem__(index)
        for source, target in permutations(self.domains, 2):
            item[f"target_{source}_to_{target}"] = item[target]
        return item

    def images_of(self, domain: str) -> DomainImages:
        images_of = super().images_of
        truths = {target: images_of(target).load for target in self.domains if target != domain}
        return replace(images_of(domain), load_truths=truths)


class StyledSyntheticDataModule(StarGANv2DataModule):
    """The built-in multi-domain synthetic set (:mod:`unpaired.data.synthetic_styles`),
    generated on first use, with the truth of every translation of its test images.

    ``image_size``, ``n_train``, ``n_test`` and ``seed`` define the set; the other arguments are
    those of :class:`StarGANv2DataModule` (``img_size`` defaults to ``image_size``).
    """

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        n_train: int = 400,
        n_test: int = 50,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(root, **{"img_size": image_size, **kwargs})
        self.spec = synthetic.SyntheticSpec(
            image_size=image_size, n_train=n_train, n_test=n_test, seed=seed
        )

    def prepare_data(self) -> None:
        synthetic_styles.ensure(self.root, self.spec)

    @property
    def has_ground_truth(self) -> bool:
        """Validation items hold the truth of every translation (:class:`SameScenesTestSet`)."""
        return True

    def missing_hint(self) -> str:
        return "The synthetic set is generated by prepare_data(), which Trainer.fit calls first."

    def _dataset(self, phase: str, transform: ImageTransform, random_pairing: bool) -> Any:
        if random_pairing:
            return super()._dataset(phase, transform, random_pairing)
        return SameScenesTestSet(
            self.root,
            phase,
            transform,
            max_dataset_size=self.max_dataset_size,
            random_pairing=False,
            channels=self.channels,
            on_bad_image=self.on_bad_image,
            seed=self._run_seed(),
            domains=self._domains,
        )

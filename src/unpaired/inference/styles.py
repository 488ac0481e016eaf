"""Several translations of one image, for multimodal models (StarGAN v2, MUNIT): ``samples``
random styles (seeded), or the style of each of a set of reference images.

A model is multimodal when it has ``sample(images, direction, num_samples, generator)`` and
``translate_with_style(images, references, direction)`` (both in [-1, 1], images padded to the
generator's size multiple as for any translation).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor

from unpaired.data.padding import crop_padding, pad_to_multiple
from unpaired.data.single import SingleImageDataset
from unpaired.data.transforms import build_transform
from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.inference.load import size_multiple
from unpaired.models.base import GenerativeModule


def is_multimodal(module: GenerativeModule) -> bool:
    return hasattr(module, "sample") and hasattr(module, "translate_with_style")


def translation_into(
    module: GenerativeModule, target: str | None, direction: str | None
) -> Translation:
    """The model's translation into ``target`` (a domain; the first such translation: a
    StarGAN v2 generator does not depend on the source domain), or else ``direction``'s."""
    if target is None:
        return module.translation(direction)
    for translation in module.translations:
        if translation.target == target:
            return translation
    raise ConfigError(
        f"target={target} is not a domain this model translates into; its domains are "
        f"{', '.join(module.domains)}."
    )


class StyleTranslator:
    """Translates one image at a time (any size) into ``translation``'s target domain: with
    ``samples`` random styles, the same ``samples`` styles for every image (drawn from
    ``seed``), or with the style of each image under ``style_ref`` (a file or a folder)."""

    def __init__(
        self,
        module: GenerativeModule,
        translation: Translation,
        samples: int | None = None,
        style_ref: str | Path | None = None,
        seed: int = 0,
    ) -> None:
        if not is_multimodal(module):
            raise ConfigError(
                f"a {type(module).__name__} model makes one translation per image: samples= and "
                "style_ref= need a multimodal model (StarGAN v2, MUNIT)."
            )
        if (samples is None) == (style_ref is None):
            raise ConfigError(
                "give either samples=N (random styles) or style_ref=<image or folder>."
            )
        if samples is not None and int(samples) < 1:
            raise ConfigError(f"samples={samples} must be at least 1.")
        self.module = module
        self.translation = translation
        self.samples = None if samples is None else int(samples)
        self.seed = seed
        self.references = None if style_ref is None else self._references(Path(style_ref))

    def _references(self, path: Path) -> dict[str, Tensor]:
        """Each reference by its name, as the model's style encoder takes it: resized to the
        model's image size where its encoder has a fixed one (StarGAN v2)."""
        size = getattr(self.module, "reference_size", None)
        transform = (
            None if size is None else build_transform("resize_and_crop", size, size, False, False)
        )
        dataset = SingleImageDataset(path.expanduser(), transform)
        device = self.module.device
        return {
            Path(item["path"]).with_suffix("").as_posix().replace("/", "_"): item["image"][None].to(
                device
            )
            for item in (dataset[i] for i in range(len(dataset)))
        }

    @torch.no_grad()
    def __call__(self, image: Tensor) -> Iterator[tuple[str, Tensor]]:
        """``(name, translation)`` pairs for one image ``(C, H, W)``: ``sample<j>`` or the
        reference's name, each ``(C, H, W)`` at the image's size."""
        padded, padding = pad_to_multiple(
            image[None].to(self.module.device), size_multiple(self.module)
        )
        if self.samples is not None:
            generator = torch.Generator(self.module.device).manual_seed(self.seed)
            results = self.module.sample(padded, self.translation, self.samples, generator)[0]
            for index, result in enumerate(results):
                yield f"sample{index}", crop_padding(result[None], padding)[0]
            return
        assert self.references is not None
        for name, reference in self.references.items():
            result = self.module.translate_with_style(padded, reference, self.translation)
            yield name, crop_padding(result, padding)[0]

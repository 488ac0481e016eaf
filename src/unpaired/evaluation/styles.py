"""The multimodal protocol of StarGAN v2 (the authors' ``metrics/eval.py``), for any model that
draws styles (:func:`unpaired.inference.styles.is_multimodal`: StarGAN v2, MUNIT).

For every source -> target pair and each guide, ``latent`` and ``reference``, every test image
of the source is translated ``outputs_per_image`` times (10 in the paper): with a random latent
code of its own each time, or with the style of a reference image of the target. References are
drawn as the authors' loader draws them: the target's test images shuffled, in batches of the
evaluation's batch size (the last incomplete batch dropped, at least one batch), reshuffled when
used up, one batch per output of a batch of sources, its first images taken, and the stream
going on across the sources of one target. FID of the pair compares all its outputs, saved as
PNG, with the target's real test images; LPIPS diversity is the mean pairwise LPIPS between the
outputs of each image, averaged over the images (:func:`unpaired.metrics.lpips.mean_pairwise`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from unpaired.data.domains import DomainImages
from unpaired.domains import Translation
from unpaired.evaluation.images import chunks
from unpaired.metrics.lpips import LPIPS, mean_pairwise

GUIDES = ("latent", "reference")


@dataclass(frozen=True)
class StyleOptions:
    """What the protocol needs of ``metrics.*``."""

    outputs_per_image: int
    batch_size: int
    seed: int


def reference_batches(
    domain: DomainImages, batch_size: int, generator: torch.Generator
) -> Iterator[Tensor]:
    """Endless batches of ``domain``'s images as the authors' shuffled, drop-last loader gives
    them (batches of ``batch_size``, or of all the images when there are fewer)."""
    size = min(batch_size, len(domain))
    while True:
        order = torch.randperm(len(domain), generator=generator).tolist()
        for start in range(0, len(order) - size + 1, size):
            yield torch.stack([domain.load(i) for i in order[start : start + size]])


def style_outputs(
    module: Any,
    translation: Translation,
    images: Tensor,
    guide: str,
    outputs_per_image: int,
    latents: torch.Generator,
    references: Iterator[Tensor],
) -> Tensor:
    """``(N, K, C, H, W)``: K translations of each image; each image its own random codes
    (``latent``), or each output the next batch of references, one per image (``reference``)."""
    if guide == "latent":
        draws = [
            module.sample(image[None], translation, outputs_per_image, latents) for image in images
        ]
        return torch.cat(draws)
    outputs = []
    for _ in range(outputs_per_image):
        batch = next(references)[: len(images)].to(images.device)
        outputs.append(module.translate_with_style(images, batch, translation))
    return torch.stack(outputs, dim=1)


def evaluate_styles(
    module: Any,
    translation: Translation,
    sources: DomainImages,
    references: dict[str, Iterator[Tensor]],
    lpips: LPIPS,
    folder: Callable[[str], Path],
    save: Callable[[Tensor, Path], None],
    options: StyleOptions,
    device: torch.device,
) -> dict[str, dict[str, Any]]:
    """Both guides for one pair: ``{guide: {"lpips", "translations", "outputs"}}``, with the
    PNG paths of the outputs under ``outputs`` (for FID)."""
    results = {}
    for guide in GUIDES:
        latents = torch.Generator(device).manual_seed(options.seed)
        target = folder(f"{guide}_{translation}")
        paths: list[Path] = []
        diversity: list[Tensor] = []
        for chunk in chunks(list(range(len(sources))), options.batch_size):
            images = torch.stack([sources.load(i) for i in chunk]).to(device)
            outputs = style_outputs(
                module,
                translation,
                images,
                guide,
                options.outputs_per_image,
                latents,
                references[translation.target],
            )
            diversity.append(mean_pairwise(lpips, outputs).cpu())
            for index, per_image in zip(chunk, outputs, strict=True):
                for j, output in enumerate(per_image):
                    path = target / f"{sources.stem(index)}_{j:02d}.png"
                    save(output, path)
                    paths.append(path)
        results[guide] = {
            "lpips": float(torch.cat(diversity).mean()),
            "translations": str(target),
            "outputs": paths,
        }
    return results

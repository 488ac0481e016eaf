"""Exact error of a translation against its known true translation (the built-in synthetic set).

Images are compared in [0, 1] intensity: ``L1`` is the mean absolute error per image and ``PSNR``
is ``10 log10(1 / MSE)`` per image, in dB. Both are returned per image so that a mean over a
data set weighs every image once, whatever the batch sizes were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure

from unpaired.domains import Translation

_MIN_MSE = 1e-10  # caps PSNR at 100 dB for a perfect translation


def per_image_errors(prediction: Tensor, target: Tensor) -> dict[str, Tensor]:
    """L1 and PSNR of each image of a batch; inputs are in [-1, 1], shape (N, C, H, W)."""
    difference = (prediction.float() - target.float()) / 2  # in [0, 1] intensity units
    l1 = difference.abs().flatten(1).mean(1)
    mse = difference.square().flatten(1).mean(1)
    psnr = 10 * torch.log10(1.0 / mse.clamp_min(_MIN_MSE))
    return {"L1": l1, "PSNR": psnr}


def ground_truth_errors(
    batch: Mapping[str, Any], outputs: Mapping[str, Tensor], translations: Iterable[Translation]
) -> dict[str, Tensor]:
    """Per-image errors ``L1_AB``, ``PSNR_AB``, ... (``<metric>_<translation.suffix>``) of every
    translation whose truth the batch holds and whose result the model produced: under the
    translation's own name (``target_cat_to_dog`` and ``fake_cat_to_dog``, see :func:`pair_key`;
    with three or more domains, where a batch holds translations into ``dog`` from several
    domains), or else under its target domain's (``target_B`` and ``fake_B``); empty otherwise."""
    errors: dict[str, Tensor] = {}
    for translation in translations:
        for key in (pair_key(translation), translation.target):
            target_key, output_key = f"target_{key}", f"fake_{key}"
            if target_key in batch and output_key in outputs:
                for name, value in per_image_errors(outputs[output_key], batch[target_key]).items():
                    errors[f"{name}_{translation.suffix}"] = value
                break
    return errors


def pair_key(translation: Translation) -> str:
    """A translation in the names of its output and truth: ``fake_<source>_to_<target>``."""
    return f"{translation.source}_to_{translation.target}"


def per_image_ssim(prediction: Tensor, target: Tensor) -> Tensor:
    """SSIM of each image of a batch (Gaussian window 11, sigma 1.5, on [0, 1] intensity);
    inputs are in [-1, 1], shape (N, C, H, W)."""
    return structural_similarity_index_measure(
        (prediction.float() + 1) / 2, (target.float() + 1) / 2, data_range=1.0, reduction="none"
    )

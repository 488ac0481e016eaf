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


def per_clip_temporal_error(prediction: Tensor, target: Tensor) -> Tensor:
    """Temporal error of each clip of a batch: the mean absolute difference, in [0, 1]
    intensity, between the change from each frame to the next in the prediction and in the
    target, ``mean |(p[t+1] - p[t]) - (y[t+1] - y[t])| / 2``. 0 when the prediction changes
    exactly as the truth does (a constant error is no flicker); inputs in [-1, 1], shape
    (N, T, C, H, W) with T >= 2."""
    if prediction.dim() != 5 or prediction.shape[1] < 2:
        raise ValueError(f"clips of at least 2 frames are needed, got {tuple(prediction.shape)}")
    change = prediction.float().diff(dim=1) - target.float().diff(dim=1)
    return (change.abs() / 2).flatten(1).mean(1)


def ground_truth_errors(
    batch: Mapping[str, Any], outputs: Mapping[str, Tensor], translations: Iterable[Translation]
) -> dict[str, Tensor]:
    """Per-image errors ``L1_AB``, ``PSNR_AB``, ... (``<metric>_<translation.suffix>``) of every
    translation whose truth the batch holds and whose result the model produced: under the
    translation's own name (``target_cat_to_dog`` and ``fake_cat_to_dog``, see :func:`pair_key`;
    with three or more domains, where a batch holds translations into ``dog`` from several
    domains), or else under its target domain's (``target_B`` and ``fake_B``); empty otherwise.
    For clips (``N x T x C x H x W``) the errors are per clip, and ``TL1_AB``, ... is each
    clip's temporal error (:func:`per_clip_temporal_error`)."""
    errors: dict[str, Tensor] = {}
    for translation in translations:
        for key in (pair_key(translation), translation.target):
            target_key, output_key = f"target_{key}", f"fake_{key}"
            if target_key in batch and output_key in outputs:
                fake, truth = outputs[output_key], batch[target_key]
                for name, value in per_image_errors(fake, truth).items():
                    errors[f"{name}_{translation.suffix}"] = value
                if fake.dim() == 5 and fake.shape[1] > 1:
                    errors[f"TL1_{translation.suffix}"] = per_clip_temporal_error(fake, truth)
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

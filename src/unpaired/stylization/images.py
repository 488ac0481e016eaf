"""Images for style transfer: reading a style or content image as a [0, 1] tensor, the ranges the
framework (``[-1, 1]``) and the style networks (``[0, 1]``) use, and colour preservation."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torchvision.transforms.functional import pil_to_tensor

from unpaired.data.io import load_image
from unpaired.errors import DataError


def read_image(path: str | Path, size: int | None = None) -> Tensor:
    """The RGB image at ``path`` as a ``(1, 3, H, W)`` float tensor in [0, 1]; with ``size``,
    resized (bicubic) so that its shorter side is ``size``.

    Raises:
        DataError: no such file (a damaged one raises :class:`~unpaired.errors.BadImageError`).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"style transfer image {path}: no such file")
    image = load_image(path, channels=3)
    if size is not None:
        width, height = image.size
        scale = size / min(width, height)
        new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(new_size, Image.Resampling.BICUBIC)
    return (pil_to_tensor(image).float() / 255).unsqueeze(0).contiguous()


def to_unit(images: Tensor) -> Tensor:
    """[-1, 1] (the framework's images) to [0, 1] (the style networks')."""
    return (images + 1) / 2


def from_unit(images: Tensor) -> Tensor:
    """[0, 1] to [-1, 1]."""
    return images * 2 - 1


def match_colours(source: Tensor, target: Tensor) -> Tensor:
    """``source`` (``(3, H, W)`` or ``(1, 3, H, W)``, [0, 1]) with its pixels' colour mean and
    covariance made those of ``target``: CORAL, as the AdaIN authors' ``--preserve_color``
    applies it to the style image (their ``function.coral``, which adds the identity to both
    covariances). Used to keep a content image's colours: the style image takes them first."""
    batched = source.dim() == 4
    src, tgt = (source[0] if batched else source), (target[0] if target.dim() == 4 else target)
    src_flat, tgt_flat = src.reshape(3, -1).double(), tgt.reshape(3, -1).double()

    def standardised(flat: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mean, std = flat.mean(1, keepdim=True), flat.std(1, keepdim=True)
        return (flat - mean) / std, mean, std

    src_norm, _, _ = standardised(src_flat)
    tgt_norm, tgt_mean, tgt_std = standardised(tgt_flat)
    eye = torch.eye(3, dtype=torch.float64)
    src_cov, tgt_cov = src_norm @ src_norm.T + eye, tgt_norm @ tgt_norm.T + eye
    transferred = _matrix_sqrt(tgt_cov) @ torch.linalg.inv(_matrix_sqrt(src_cov)) @ src_norm
    result = (transferred * tgt_std + tgt_mean).reshape(src.shape).to(source.dtype)
    return result.unsqueeze(0) if batched else result


def _matrix_sqrt(matrix: Tensor) -> Tensor:
    """The square root of a symmetric positive definite matrix."""
    values, vectors = torch.linalg.eigh(matrix)
    return vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T

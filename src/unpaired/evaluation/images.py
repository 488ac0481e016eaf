"""Small pieces shared by the evaluation and the training-time FID: 8-bit images and batching."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] images to uint8 [0, 255], rounded as torchvision's ``save_image`` rounds."""
    return ((images.detach().float().cpu() + 1) * 127.5 + 0.5).clamp(0, 255).to(torch.uint8)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def same_shape_groups(shapes: Sequence[Any]) -> Iterator[list[int]]:
    """Indices of consecutive images of one shape (``preprocess=none`` keeps sizes apart)."""
    group: list[int] = []
    for index, shape in enumerate(shapes):
        if group and shapes[group[0]] != shape:
            yield group
            group = []
        group.append(index)
    if group:
        yield group

"""History of generated images for the discriminator (Shrivastava et al. 2017), as in CycleGAN."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class ImagePool:
    """Buffer of up to ``size`` past generated images.

    ``query`` follows the authors' semantics image by image: while the pool is filling, each new
    image is stored and returned; once full, with probability 0.5 a random stored image is
    returned and the new one takes its place, otherwise the new image is returned. ``size=0``
    disables the pool. Randomness comes from torch's global generator, so a seeded run is
    reproducible and a restored RNG state continues it.
    """

    def __init__(self, size: int = 50) -> None:
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: list[Tensor] = []

    def query(self, images: Tensor) -> Tensor:
        if self.size == 0:
            return images
        returned = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                returned.append(image)
            elif torch.rand(()) > 0.5:
                index = int(torch.randint(0, self.size, ()))
                returned.append(self.images[index].clone())
                self.images[index] = image
            else:
                returned.append(image)
        return torch.cat(returned, 0)

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "images": [image.cpu() for image in self.images]}

    def load_state_dict(self, state: dict[str, Any], device: torch.device | None = None) -> None:
        self.size = state["size"]
        self.images = [image.to(device) for image in state["images"]]

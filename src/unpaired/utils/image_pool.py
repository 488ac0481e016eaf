"""History of generated images for the discriminator (Shrivastava et al. 2017), as in CycleGAN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn


class ImagePool(nn.Module):
    """Buffer of up to ``size`` past generated images.

    ``query`` follows the authors' semantics image by image: while the pool is filling, each new
    image is stored and returned; once full, with probability 0.5 a random stored image is
    returned and the new one takes its place, otherwise the new image is returned. ``size=0``
    disables the pool. Randomness comes from torch's global generator, so a seeded run is
    reproducible and a restored RNG state continues it.

    A module without parameters, so that its images follow the model's device and dtype as
    buffers do (``model.to(...)``, ``model.double()``; Lightning moves the model after a
    checkpoint has restored the pool). They are not buffers because their number varies; the
    model saves them with :meth:`pool_state` beside its ``state_dict``. Each stored image is a
    copy of its own, not a view that would keep its whole batch alive (in memory and in the
    checkpoint).
    """

    def __init__(self, size: int = 50) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: list[Tensor] = []
        # Empty, outside the state_dict: where (device, dtype) the model has put the pool.
        self.register_buffer("placement", torch.empty(0), persistent=False)

    def query(self, images: Tensor) -> Tensor:
        if self.size == 0:
            return images
        returned = []
        for image in images.detach():
            image = image.unsqueeze(0).clone()
            if len(self.images) < self.size:
                self.images.append(image)
                returned.append(image)
            elif torch.rand(()) > 0.5:
                index = int(torch.randint(0, self.size, ()))
                returned.append(self.images[index])
                self.images[index] = image
            else:
                returned.append(image)
        return torch.cat(returned, 0)

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> ImagePool:
        self.images = [fn(image) for image in self.images]
        return super()._apply(fn, recurse)

    def pool_state(self) -> dict[str, Any]:
        """The size and the stored images (on the CPU), for a checkpoint."""
        return {"size": self.size, "images": [image.cpu() for image in self.images]}

    def load_pool_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`pool_state`'s images onto the pool's current device and dtype (a later
        move of the model moves them along)."""
        self.size = state["size"]
        self.images = [image.to(self.placement) for image in state["images"]]

    def extra_repr(self) -> str:
        return f"size={self.size}, stored={len(self.images)}"

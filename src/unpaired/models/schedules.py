"""Learning-rate schedules of the papers, as picklable objects so that checkpoints restore them."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class LinearDecay:
    """CycleGAN's ``linear`` policy: factor 1 for ``n_epochs`` epochs, then linear decay over
    ``n_epochs_decay`` epochs: ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``."""

    def __init__(self, n_epochs: int, n_epochs_decay: int) -> None:
        if n_epochs < 0 or n_epochs_decay < 0:
            raise ValueError(
                f"n_epochs and n_epochs_decay must be >= 0, got {n_epochs} and {n_epochs_decay}"
            )
        self.n_epochs = n_epochs
        self.n_epochs_decay = n_epochs_decay

    def __call__(self, epoch: int) -> float:
        return 1.0 - max(0, epoch + 1 - self.n_epochs) / float(self.n_epochs_decay + 1)


def linear_decay(optimizer: Optimizer, n_epochs: int, n_epochs_decay: int) -> LambdaLR:
    """The scheduler a model config names as ``_target_`` (with ``_partial_: true``)."""
    return LambdaLR(optimizer, LinearDecay(n_epochs, n_epochs_decay))

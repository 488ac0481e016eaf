"""Exponential moving averages of network weights (the weights a trained generator is used with).

The anchors differ in what they average and from when: StarGAN v2 lerps the parameters of its
generator, mapping network and style encoder with decay 0.999 from the first iteration; imaginaire
uses 0.9999 after a plain copy for the first 1,000 iterations and averages every state entry;
mmagic and StyleGAN2 copy the buffers rather than average them. :class:`WeightAverage` offers each
of these: ``decay``, ``start_step`` (a plain copy before it) and ``buffers`` (``copy`` or
``average``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from unpaired.errors import ConfigError

BUFFER_POLICIES = ("copy", "average")


class WeightAverage(nn.Module):
    """Averaged copies of networks, updated after each update of the originals.

    Args:
        networks: name -> network to average; the copies start equal to them.
        decay: weight of the old average in each update,
            ``average = decay * average + (1 - decay) * weights``.
        start_step: before this training iteration the copies follow the weights exactly (a
            plain copy), from it on they average.
        buffers: ``copy`` takes the networks' buffers (batch-norm statistics) as they are;
            ``average`` averages the floating-point ones too (integer ones are copied).

    The copies are submodules, so checkpoints hold them and a resume restores them; they never
    require gradients. Under DDP every process applies the same update to the same weights, so
    the averages agree (DDP broadcasts the buffers from the first process as it does the
    networks').
    """

    def __init__(
        self,
        networks: Mapping[str, nn.Module],
        decay: float = 0.999,
        start_step: int = 0,
        buffers: str = "copy",
    ) -> None:
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ConfigError(f"model.ema.decay={decay} must be in [0, 1).")
        if start_step < 0:
            raise ConfigError(f"model.ema.start_step={start_step} must be >= 0.")
        if buffers not in BUFFER_POLICIES:
            raise ConfigError(
                f"model.ema.buffers={buffers!r} is not an option; use copy or average."
            )
        self.decay = decay
        self.start_step = start_step
        self.buffer_policy = buffers
        self.copies = nn.ModuleDict(
            {
                name: copy.deepcopy(net).requires_grad_(False).eval()
                for name, net in networks.items()
            }
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.copies.keys())

    def train(self, mode: bool = True) -> WeightAverage:
        return super().train(False)  # copies are only ever evaluated

    @torch.no_grad()
    def update(self, networks: Mapping[str, nn.Module], step: int) -> None:
        """Move the copies towards ``networks`` after training iteration ``step`` (a plain copy
        before :attr:`start_step`). No value is read back from the device."""
        weight = 1.0 if step < self.start_step else 1.0 - self.decay
        for name, average in self.copies.items():
            network = networks[name]
            torch._foreach_lerp_(list(average.parameters()), list(network.parameters()), weight)
            for mine, theirs in zip(average.buffers(), network.buffers(), strict=True):
                if self.buffer_policy == "average" and mine.is_floating_point():
                    mine.lerp_(theirs, weight)
                else:
                    mine.copy_(theirs)


def _frozen_copy(network: nn.Module) -> nn.Module:
    return copy.deepcopy(network).requires_grad_(False).eval()

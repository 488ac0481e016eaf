"""Adversarial objectives, each split into the three terms a GAN step needs.

A discriminator step minimises ``real(D(x)) + fake(D(G(z)))`` (methods weigh the two, CycleGAN
halves their sum); a generator step minimises ``generator(D(G(z)))``. Discriminators may return
one prediction map or a list of maps (multi-scale discriminators); a list is summed over scales,
as the UNIT/MUNIT authors do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from unpaired.errors import ConfigError

Prediction = Tensor | Sequence[Tensor]


def _over_scales(term: Callable[[Tensor], Tensor], prediction: Prediction) -> Tensor:
    if isinstance(prediction, Tensor):
        return term(prediction)
    return torch.stack([term(p) for p in prediction]).sum()


class _Terms(NamedTuple):
    real: Callable[[Tensor], Tensor]
    fake: Callable[[Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]


def _mse_to(target: float) -> Callable[[Tensor], Tensor]:
    return lambda p: F.mse_loss(p, torch.full_like(p, target))


def _bce_to(target: float) -> Callable[[Tensor], Tensor]:
    return lambda p: F.binary_cross_entropy_with_logits(p, torch.full_like(p, target))


def _mean(p: Tensor) -> Tensor:
    return p.mean()


def _negative_mean(p: Tensor) -> Tensor:
    return -p.mean()


_TERMS: dict[str, _Terms] = {
    "lsgan": _Terms(real=_mse_to(1.0), fake=_mse_to(0.0), generator=_mse_to(1.0)),
    "vanilla": _Terms(real=_bce_to(1.0), fake=_bce_to(0.0), generator=_bce_to(1.0)),
    "hinge": _Terms(
        real=lambda p: F.relu(1.0 - p).mean(),
        fake=lambda p: F.relu(1.0 + p).mean(),
        generator=_negative_mean,
    ),
    "wgangp": _Terms(real=_negative_mean, fake=_mean, generator=_negative_mean),
}
GAN_MODES = tuple(_TERMS)


class AdversarialLoss(nn.Module):
    """GAN loss of one of ``lsgan`` (least squares, the CycleGAN default), ``vanilla`` (the original
    cross-entropy on logits), ``hinge`` or ``wgangp`` (Wasserstein; pair it with
    :func:`gradient_penalty`, which the authors' CycleGAN code computes but never applies)."""

    def __init__(self, mode: str = "lsgan") -> None:
        super().__init__()
        if mode not in _TERMS:
            raise ConfigError(
                f"model.gan_mode={mode!r} is not a known GAN loss; "
                f"use one of {', '.join(GAN_MODES)}."
            )
        self.mode = mode
        self._terms = _TERMS[mode]

    def real(self, prediction: Prediction) -> Tensor:
        """Discriminator loss on real images."""
        return _over_scales(self._terms.real, prediction)

    def fake(self, prediction: Prediction) -> Tensor:
        """Discriminator loss on generated images."""
        return _over_scales(self._terms.fake, prediction)

    def generator(self, prediction: Prediction) -> Tensor:
        """Generator loss: make the discriminator call its images real."""
        return _over_scales(self._terms.generator, prediction)


def gradient_penalty(
    discriminator: Callable[[Tensor], Prediction],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,
) -> Tensor:
    """WGAN-GP penalty ``weight * E[(||grad_x D(x)||_2 - 1)^2]`` at random interpolates of real and
    fake images (Gulrajani et al. 2017), differentiable so it trains the discriminator.

    The penalty is a gradient, so it is computed with gradients enabled wherever it is called:
    in validation too, where Lightning runs under inference mode (the interpolates, computed
    outside it, are ordinary tensors). There it is measured, not trained: no graph is kept for a
    backward pass.
    """
    trains = torch.is_grad_enabled()
    with torch.inference_mode(False), torch.enable_grad():
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
        mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
        prediction = discriminator(mixed)
        outputs = [prediction] if isinstance(prediction, Tensor) else list(prediction)
        (grad,) = torch.autograd.grad(
            outputs=[o.sum() for o in outputs], inputs=mixed, create_graph=trains
        )
        grad_norm = grad.flatten(1).norm(2, dim=1)
        penalty = weight * ((grad_norm - 1.0) ** 2).mean()
    return penalty if trains else penalty.detach()

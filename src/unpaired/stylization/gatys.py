"""Gatys, Ecker & Bethge (CVPR 2016): style transfer by optimising the image itself, so that its
VGG features match the content image's at the content layers and its Gram matrices match the
style images' at the style layers.

Two ways to weigh the terms (``scale``):

- ``paper``: the paper's sums, ``L_content = 1/2 sum (F - P)^2`` and, per style layer,
  ``E_l = sum (G - A)^2 / (4 N_l^2 M_l^2)`` over unnormalised Gram matrices, weighted ``w_l`` =
  1 / (number of style layers); ``alpha`` and ``beta`` (content and style weight) as in the paper
  (alpha / beta = 1e-3);
- ``tutorial``: the PyTorch tutorial's means, MSE of the features and MSE of the Gram matrices
  normalised by ``C H W`` (:func:`~unpaired.losses.style.gram_matrix`), summed over layers,
  with its weights (content 1, style 1e6).

The two differ per layer by a factor that depends only on the layer's size: the paper's
``1/2 sum`` is ``numel / 2`` times the MSE, its ``E_l`` is ``C_l^2 / 4`` times the MSE of the
normalised Gram matrices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from unpaired.errors import ConfigError
from unpaired.losses.style import gram_matrix
from unpaired.nn.vgg import VGGFeatures

SCALES = ("paper", "tutorial")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise")


@dataclass(frozen=True)
class GatysSettings:
    """What is matched and how (the presets in ``conf/gatys/``)."""

    arch: str
    content_layers: Sequence[str]
    style_layers: Sequence[str]
    content_weight: float
    style_weight: float
    scale: str
    pooling: str = "max"  # max | average (the paper's; :class:`~unpaired.nn.vgg.VGGFeatures`)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ConfigError(f"gatys.scale={self.scale!r} is not one of {', '.join(SCALES)}")


class GatysLoss:
    """``content_weight * content + style_weight * style`` of an image ([0, 1]) against fixed
    targets: the content image's features and each style image's Gram matrices, the styles
    mixed with ``style_weights`` (normalised to sum 1)."""

    def __init__(
        self,
        network: VGGFeatures,
        settings: GatysSettings,
        content: Tensor,
        styles: Sequence[Tensor],
        style_weights: Sequence[float],
    ) -> None:
        self.network, self.settings = network, settings
        total = float(sum(style_weights))
        self.style_weights = [w / total for w in style_weights]
        with torch.no_grad():
            features = network(content)
            self.content_targets = [features[name] for name in settings.content_layers]
            self.style_targets = [
                [gram_matrix(network(style)[name]) for name in settings.style_layers]
                for style in styles
            ]

    def __call__(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """The weighted content and style terms of ``image``."""
        settings = self.settings
        features = self.network(image)
        content = sum(
            _content_term(features[name], target, settings.scale)
            for name, target in zip(settings.content_layers, self.content_targets, strict=True)
        )
        style = sum(
            weight
            * sum(
                _style_term(features[name], target, settings.scale)
                for name, target in zip(settings.style_layers, targets, strict=True)
            )
            for weight, targets in zip(self.style_weights, self.style_targets, strict=True)
        )
        if settings.scale == "paper":
            style = style / len(settings.style_layers)  # w_l = 1 / (number of layers)
        return settings.content_weight * content, settings.style_weight * style


def _content_term(features: Tensor, target: Tensor, scale: str) -> Tensor:
    mse = F.mse_loss(features, target)
    return mse * features.numel() / 2 if scale == "paper" else mse


def _style_term(features: Tensor, target: Tensor, scale: str) -> Tensor:
    mse = F.mse_loss(gram_matrix(features), target)
    return mse * features.shape[1] ** 2 / 4 if scale == "paper" else mse


def optimise_image(
    loss: GatysLoss,
    start: Tensor,
    steps: int,
    optimizer: str = "lbfgs",
    lr: float = 1.0,
    on_step: Callable[[int, float, float], None] | None = None,
) -> tuple[Tensor, list[tuple[float, float]]]:
    """Optimise ``start`` ([0, 1]) for ``steps`` evaluations of the loss, kept in [0, 1] (clamped
    before each evaluation, as the PyTorch tutorial does); returns the image and the
    (content, style) terms of every evaluation. L-BFGS (``lr`` 1, its step size) evaluates the
    loss several times per iteration; every evaluation counts as a step, as in the tutorial.
    ``on_step(step, content, style)`` is called after each."""
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer={optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
    if steps < 1:
        raise ConfigError(f"steps={steps} must be at least 1")
    image = start.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    curve: list[tuple[float, float]] = []
    if optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS([image], lr=lr)
    else:
        opt = torch.optim.Adam([image], lr=lr)

    def closure() -> Tensor:
        with torch.no_grad():
            image.clamp_(0, 1)
        opt.zero_grad()
        content, style = loss(image)
        total = content + style
        total.backward()
        curve.append((content.item(), style.item()))
        if on_step is not None:
            on_step(len(curve), *curve[-1])
        return total

    while len(curve) < steps:
        if optimizer == "lbfgs":  # no evaluation past ``steps`` (torch's defaults: 20 and 25)
            remaining = steps - len(curve)
            opt.param_groups[0].update(max_iter=min(20, remaining), max_eval=min(25, remaining))
        opt.step(closure)
    with torch.no_grad():
        image.clamp_(0, 1)
    return image.detach(), curve

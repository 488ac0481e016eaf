"""Content and style losses on feature maps (of :class:`unpaired.nn.vgg.VGGFeatures`), usable by
any method: content (feature MSE), style as Gram matrices, style as per-channel mean and standard
deviation (AdaIN), total variation, and the UNIT/MUNIT authors' domain-invariant perceptual loss.

Each follows one anchor's normalisation, named in its docstring, so that the anchors' weights
(content 1e5 and style 1e10 for Johnson's network, style 10 for AdaIN) mean what they meant there.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

#: AdaIN's epsilon, added to the variance before the square root (the authors' ``calc_mean_std``).
ADAIN_EPS = 1e-5


def content_loss(features: Tensor, target: Tensor) -> Tensor:
    """The mean squared difference of two feature maps (Johnson's and AdaIN's content loss)."""
    return F.mse_loss(features, target)


def gram_matrix(features: Tensor) -> Tensor:
    """``F F^T / (C H W)`` of each item's ``(C, H*W)`` feature matrix: ``(N, C, C)``.

    The normalisation of pytorch/examples' ``fast_neural_style`` (``utils.gram_matrix``) and of
    the PyTorch tutorial (``G / (a*b*c*d)`` with a batch of one). Gatys et al.'s paper sums
    ``(G - A)^2 / (4 N^2 M^2)`` over the unnormalised Gram: ``C^2 / 4`` times
    :func:`gram_style_loss` of one layer, a factor its style weight absorbs.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat.bmm(flat.transpose(1, 2)) / (c * h * w)


def gram_style_loss(features: Sequence[Tensor], target_grams: Sequence[Tensor]) -> Tensor:
    """The sum over layers of the mean squared difference between the Gram matrices of
    ``features`` and ``target_grams`` (one style's, broadcast over the batch), as
    ``fast_neural_style`` and the PyTorch tutorial compute it."""
    losses = []
    for feature, target in zip(features, target_grams, strict=True):
        gram = gram_matrix(feature)
        losses.append(F.mse_loss(gram, target.expand_as(gram)))
    return torch.stack(losses).sum()


def mean_std(features: Tensor, eps: float = ADAIN_EPS) -> tuple[Tensor, Tensor]:
    """Per-item, per-channel mean and standard deviation ``(N, C, 1, 1)`` over the spatial
    positions: ``sqrt(var + eps)`` with the unbiased variance, as the AdaIN authors'
    ``calc_mean_std``."""
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    std = (flat.var(dim=2) + eps).sqrt().view(n, c, 1, 1)
    return flat.mean(dim=2).view(n, c, 1, 1), std


def adaptive_instance_norm(content: Tensor, style: Tensor, eps: float = ADAIN_EPS) -> Tensor:
    """AdaIN (Huang & Belongie 2017): ``content`` normalised per channel and given ``style``'s
    per-channel mean and standard deviation (:func:`mean_std`)."""
    content_mean, content_std = mean_std(content, eps)
    style_mean, style_std = mean_std(style, eps)
    return (content - content_mean) / content_std * style_std + style_mean


def mean_std_style_loss(features: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
    """AdaIN's style loss: over layers, the MSE of the per-channel means plus the MSE of the
    per-channel standard deviations of ``features`` and ``targets`` (the authors'
    ``calc_style_loss``, summed over ``relu1_1 ... relu4_1``)."""
    losses = []
    for feature, target in zip(features, targets, strict=True):
        mean, std = mean_std(feature)
        target_mean, target_std = mean_std(target)
        losses.append(F.mse_loss(mean, target_mean) + F.mse_loss(std, target_std))
    return torch.stack(losses).sum()


def total_variation(images: Tensor) -> Tensor:
    """The mean squared difference between horizontally and vertically neighbouring pixels
    (summed over the two directions): the smoothness prior of Johnson et al. and of
    Mahendran & Vedaldi, averaged rather than summed so its weight does not depend on size."""
    dx = images[..., :, 1:] - images[..., :, :-1]
    dy = images[..., 1:, :] - images[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def instance_normalized_perceptual_loss(features: Tensor, target: Tensor) -> Tensor:
    """The UNIT/MUNIT authors' domain-invariant perceptual loss (``compute_vgg_loss``, their
    ``vgg_w``): the mean squared difference of the two feature maps after instance normalisation
    without affine parameters (``nn.InstanceNorm2d``'s eps 1e-5, biased variance)."""
    return F.mse_loss(F.instance_norm(features), F.instance_norm(target))

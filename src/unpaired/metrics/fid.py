"""FID and KID between two sets of Inception features, by torchmetrics' own arithmetic.

The features are computed once per image set (:class:`unpaired.metrics.inception.InceptionFeatures`)
and fed to torchmetrics' public metrics through a pass-through "feature extractor", so FID and KID
share one Inception pass and a set of real images can be compared with several sets of fakes.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

#: Subsets drawn by KID (torchmetrics' and torch-fidelity's default).
KID_SUBSETS = 100


class _Precomputed(nn.Module):
    """The "extractor" of features that are already computed: returns its input."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def _check(real: Tensor, fake: Tensor, minimum: int, metric: str) -> None:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"{metric} needs two (N, D) feature sets, got {real.shape}, {fake.shape}")
    if min(len(real), len(fake)) < minimum:
        raise ValueError(
            f"{metric} needs at least {minimum} images per set, got {len(real)} real and "
            f"{len(fake)} translated"
        )


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """FID: the Fréchet distance between Gaussians fitted to two (N, D) feature sets."""
    _check(real, fake, 2, "FID")
    metric = FrechetInceptionDistance(feature=_Precomputed(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kernel_inception_distance(
    real: Tensor, fake: Tensor, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float, int]:
    """KID: mean and standard deviation over :data:`KID_SUBSETS` random subsets of the unbiased
    polynomial-kernel MMD, and the subset size used: ``subset_size`` capped at the smaller set's
    size (a subset may not be larger than the sample). The subsets are drawn from ``seed``."""
    _check(real, fake, 2, "KID")
    size = min(subset_size, len(real), len(fake))
    with warnings.catch_warnings():  # "KID will save all extracted features": we know
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(
            feature=_Precomputed(real.shape[1]), subsets=KID_SUBSETS, subset_size=size
        )
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std), size

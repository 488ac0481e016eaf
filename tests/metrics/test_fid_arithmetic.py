"""FID and KID arithmetic against a direct numpy/scipy computation on known features."""

import numpy as np
import pytest
import torch
from scipy import linalg

from unpaired.metrics.fid import frechet_distance, kernel_inception_distance


def _features(seed: int, n: int, dim: int, shift: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    return rng.normal(size=(n, dim)) @ mixing + shift


def _reference_fid(real: np.ndarray, fake: np.ndarray) -> float:
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def _reference_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3 (Binkowski et al.)."""
    d, m = x.shape[1], len(x)

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2 * kxy.sum() / m**2)


@pytest.mark.parametrize("shift", [0.0, 0.7])
def test_fid_equals_the_frechet_distance_of_scipy(shift):
    real, fake = _features(0, 60, 8, 0.0), _features(1, 50, 8, shift)
    expected = _reference_fid(real, fake)
    measured = frechet_distance(torch.from_numpy(real), torch.from_numpy(fake))
    assert measured == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_the_shift():
    real = torch.from_numpy(_features(0, 40, 6, 0.0))
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(real, real + 1.0) == pytest.approx(6.0, rel=1e-6)  # |mu1 - mu2|^2


def test_kid_with_the_whole_sample_as_subset_equals_the_direct_mmd():
    real, fake = _features(2, 30, 8, 0.0), _features(3, 30, 8, 0.5)
    mean, std, size = kernel_inception_distance(
        torch.from_numpy(real), torch.from_numpy(fake), subset_size=1000
    )
    assert size == 30  # capped at the sample: every subset is a permutation of all features
    assert mean == pytest.approx(_reference_mmd(real, fake), rel=1e-6)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_kid_subsets_are_reproducible_and_average_the_direct_mmd():
    real = torch.from_numpy(_features(4, 40, 8, 0.0))
    fake = torch.from_numpy(_features(5, 40, 8, 0.5))
    first = kernel_inception_distance(real, fake, subset_size=10, seed=3)
    assert first == kernel_inception_distance(real, fake, subset_size=10, seed=3)
    assert first[2] == 10 and first[1] > 0
    full = _reference_mmd(real.numpy(), fake.numpy())
    assert first[0] == pytest.approx(full, rel=0.5)  # an unbiased estimate of the same MMD


def test_too_few_images_is_an_error():
    one = torch.zeros(1, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="at least 2 images"):
        frechet_distance(one, torch.zeros(5, 4, dtype=torch.float64))

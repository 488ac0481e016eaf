"""LPIPS as the StarGAN v2 authors compute it, from weight files only: the arithmetic by hand on
tiny features, the pairwise mean over an image's outputs, and the error when a file is missing."""

import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from unpaired.errors import ConfigError
from unpaired.metrics.lpips import (
    ALEXNET_FILE,
    LPIPS,
    LPIPS_FILE,
    SCALE,
    SHIFT,
    ChannelWeights,
    mean_pairwise,
)


def test_the_distance_by_hand_on_tiny_features(random_lpips_weights: tuple[Path, Path]) -> None:
    lpips = LPIPS(*random_lpips_weights)
    # two layers of 2 channels at 1x2 positions, weights 1 and 3 per channel of both layers
    x = [torch.tensor([[[[3.0, 0.0]], [[4.0, 2.0]]]]), torch.tensor([[[[1.0, 1.0]], [[0.0, 0.0]]]])]
    y = [torch.tensor([[[[0.0, 1.0]], [[1.0, 0.0]]]]), torch.tensor([[[[0.0, 0.0]], [[2.0, 2.0]]]])]
    lpips.lpips_weights = nn.ModuleList(ChannelWeights(2) for _ in range(2)).eval()
    for module in lpips.lpips_weights:
        module.main[1].weight.data = torch.tensor([1.0, 3.0]).view(1, 2, 1, 1)
    features = iter([x, y])
    lpips.features = lambda images: next(features)  # type: ignore[method-assign]

    # layer 1: position 1 (3,4)/5 vs (0,1)/1 -> (0.36 + 3 * 0.04) = 0.48; position 2 (0,2)/2 vs
    # (1,0)/1 -> 1 + 3 * 1 = 4; mean 2.24. Layer 2: (1,0)/1 vs (0,1)/1 at both -> 1 + 3 = 4.
    value = lpips(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))
    assert value.tolist() == pytest.approx([2.24 + 4.0], abs=1e-6)


def test_the_authors_normalisation_and_a_distance_of_zero_to_itself(
    random_lpips_weights: tuple[Path, Path],
) -> None:
    lpips = LPIPS(*random_lpips_weights)
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    shifted = lpips.features(images)
    by_hand = lpips.layers[:2](
        (images - torch.tensor(SHIFT).view(1, 3, 1, 1)) / torch.tensor(SCALE).view(1, 3, 1, 1)
    )
    assert torch.allclose(shifted[0], by_hand)
    assert lpips(images, images).tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert (lpips(images, images.flip(0)) > 0).all()
    with pytest.raises(ConfigError, match="at least 31x31 pixels"):
        lpips(images[..., :30, :], images[..., :30, :])


def test_diversity_is_the_mean_over_the_pairs_of_each_images_outputs(
    random_lpips_weights: tuple[Path, Path],
) -> None:
    lpips = LPIPS(*random_lpips_weights)
    torch.manual_seed(1)
    outputs = torch.rand(2, 3, 3, 64, 64) * 2 - 1  # 2 images, 3 outputs each
    pairs = [lpips(outputs[:, i], outputs[:, j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    expected = (pairs[0] + pairs[1] + pairs[2]) / 3
    assert torch.allclose(mean_pairwise(lpips, outputs), expected)
    with pytest.raises(ConfigError, match="at least 2 outputs"):
        mean_pairwise(lpips, outputs[:, :1])


def test_a_missing_file_is_named_with_where_to_get_it_and_where_to_put_it(
    random_lpips_weights: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alexnet_path, lpips_path = random_lpips_weights
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ConfigError) as missing:
        LPIPS(alexnet_path, None)
    message = str(missing.value)
    assert "lpips_weights.ckpt" in message and "clovaai/stargan-v2" in message
    assert str(tmp_path / "hub" / "checkpoints" / LPIPS_FILE) in message
    assert "metrics.lpips_weights=" in message
    with pytest.raises(ConfigError, match=f"nowhere.pth: no such file. It must be {ALEXNET_FILE}"):
        LPIPS(tmp_path / "nowhere.pth", lpips_path)
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    shutil.copy(lpips_path, tmp_path / "hub" / "checkpoints" / LPIPS_FILE)
    assert LPIPS(alexnet_path).files["lpips_weights"].startswith(str(tmp_path / "hub"))

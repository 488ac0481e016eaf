"""CUT's patch sampling and MLP projection heads."""

import pytest
import torch
from torch import nn

from unpaired.nn import PatchSampleMLP

CUT_CHANNELS = [3, 128, 256, 256, 256]  # layers 0, 4, 8, 12, 16 of the anti-aliased ResNet-9


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_heads_are_built_eagerly_with_the_authors_parameter_count() -> None:
    heads = PatchSampleMLP(CUT_CHANNELS, nc=256)
    # per layer Linear(C, 256) and Linear(256, 256), with biases
    expected = sum((c * 256 + 256) + (256 * 256 + 256) for c in CUT_CHANNELS)
    assert n_params(heads) == expected == 560_384
    head = heads.mlp_2
    assert [type(m) for m in head] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (head[0].in_features, head[0].out_features, head[2].out_features) == (256, 256, 256)
    assert not any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in heads.modules())


def test_samples_are_unit_rows_image_by_image() -> None:
    heads = PatchSampleMLP([4, 6], nc=8)
    feats = [torch.randn(2, 4, 5, 5), torch.randn(2, 6, 3, 3)]
    samples, ids = heads(feats, num_patches=7)
    assert [s.shape for s in samples] == [(14, 8), (14, 8)]
    for s in samples:
        assert torch.allclose(s.norm(dim=1), torch.ones(14), atol=1e-5)
    assert [len(i) for i in ids] == [7, 7]
    assert len(set(ids[0].tolist())) == 7  # without replacement


def test_without_mlp_the_rows_are_the_normalised_features_at_the_positions() -> None:
    sampler = PatchSampleMLP([3], use_mlp=False)
    feat = torch.randn(2, 3, 4, 4)
    (sample,), (positions,) = sampler([feat], num_patches=5)
    flat = feat.permute(0, 2, 3, 1).reshape(2, 16, 3)
    expected = flat[:, positions].reshape(10, 3)  # image 0's five patches, then image 1's
    expected = expected / expected.norm(dim=1, keepdim=True)
    assert torch.allclose(sample, expected, atol=1e-6)


def test_given_positions_are_reused_and_small_maps_give_all_positions() -> None:
    heads = PatchSampleMLP([4], nc=8)
    feat = torch.randn(1, 4, 2, 2)
    _, (positions,) = heads([feat], num_patches=256)
    assert sorted(positions.tolist()) == [0, 1, 2, 3]
    fixed = torch.tensor([3, 1])
    _, (used,) = heads([feat], num_patches=256, patch_ids=[fixed])
    assert torch.equal(used, fixed)


def test_a_wrong_number_of_feature_maps_is_an_error() -> None:
    with pytest.raises(ValueError, match="feature maps"):
        PatchSampleMLP([4, 4])([torch.randn(1, 4, 2, 2)])


def test_defaults_are_the_authors_256_wide_heads_and_256_patches() -> None:
    torch.manual_seed(0)
    samples, ids = PatchSampleMLP([8])([torch.randn(2, 8, 32, 32)])
    assert samples[0].shape == (2 * 256, 256)
    assert ids[0].shape == (256,) and len(set(ids[0].tolist())) == 256

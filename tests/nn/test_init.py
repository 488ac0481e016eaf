import pytest
import torch
from torch import nn

from unpaired.nn import PatchGANDiscriminator, ResnetGenerator, init_weights, norm_layer
from unpaired.nn.norm import uses_bias


def convs(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]


def test_normal_init_statistics() -> None:
    net = PatchGANDiscriminator(norm="batch")
    assert init_weights(net, "normal", 0.02) is net
    for m in convs(net):
        if m.weight.numel() > 10_000:
            assert m.weight.std().item() == pytest.approx(0.02, rel=0.05)
            assert abs(m.weight.mean().item()) < 0.002
        if m.bias is not None:
            assert torch.all(m.bias == 0)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns
    for bn in bns:
        assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
        assert bn.weight.std().item() == pytest.approx(0.02, rel=0.3)
        assert torch.all(bn.bias == 0)


def test_normal_init_on_linear() -> None:
    lin = init_weights(nn.Linear(200, 300), gain=0.05)
    assert lin.weight.std().item() == pytest.approx(0.05, rel=0.05)
    assert torch.all(lin.bias == 0)


@pytest.mark.parametrize("init_type", ["xavier", "kaiming", "orthogonal"])
def test_other_inits_change_weights(init_type: str) -> None:
    net = ResnetGenerator(ngf=8, n_blocks=1)
    before = [m.weight.clone() for m in convs(net)]
    init_weights(net, init_type, 0.02)
    for m, w in zip(convs(net), before, strict=True):
        assert not torch.equal(m.weight, w)
        assert torch.all(m.bias == 0)


def test_kaiming_uses_fan_in() -> None:
    conv = init_weights(nn.Conv2d(64, 128, 3), "kaiming")
    assert conv.weight.std().item() == pytest.approx((2 / (64 * 9)) ** 0.5, rel=0.05)


def test_orthogonal_uses_gain() -> None:
    conv = init_weights(nn.Conv2d(32, 16, 3), "orthogonal", 0.5)
    w = conv.weight.flatten(1)
    assert torch.allclose(w @ w.T, 0.25 * torch.eye(16), atol=1e-5)


def test_unknown_init_type_raises() -> None:
    with pytest.raises(ValueError, match="uniform") as err:
        init_weights(nn.Linear(2, 2), "uniform")
    assert "normal" in str(err.value)


def test_norm_layer_kinds() -> None:
    inorm = norm_layer("instance")(8)
    assert isinstance(inorm, nn.InstanceNorm2d)
    assert not inorm.affine and not inorm.track_running_stats
    bnorm = norm_layer("batch")(8)
    assert isinstance(bnorm, nn.BatchNorm2d)
    assert bnorm.affine and bnorm.track_running_stats
    assert isinstance(norm_layer("none")(8), nn.Identity)
    assert [uses_bias(k) for k in ("instance", "batch", "none")] == [True, False, True]


def test_unknown_norm_raises() -> None:
    with pytest.raises(ValueError, match="layer") as err:
        norm_layer("layer")
    assert "instance" in str(err.value)
    with pytest.raises(ValueError, match="group"):
        uses_bias("group")


def test_default_init_is_the_authors_normal_with_std_002() -> None:
    torch.manual_seed(0)
    net = init_weights(PatchGANDiscriminator())
    largest = max(convs(net), key=lambda m: m.weight.numel())
    assert largest.weight.std().item() == pytest.approx(0.02, rel=0.05)

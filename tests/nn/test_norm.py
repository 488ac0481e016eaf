"""Instance norm: torch's results and gradients, computed by the faster group-norm kernels."""

import pytest
import torch
from torch import nn

from unpaired.nn import norm_layer
from unpaired.nn.norm import InstanceNorm2d


@pytest.mark.parametrize("channels_last", [False, True])
def test_instance_norm_matches_torch_forward_and_backward(channels_last):
    torch.manual_seed(0)
    x = torch.randn(2, 16, 24, 20) * 3 + 1
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    ours_in, torch_in = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = InstanceNorm2d(16)(ours_in)
    expected = nn.InstanceNorm2d(16)(torch_in)
    grad = torch.randn_like(expected)
    ours.backward(grad)
    expected.backward(grad)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours_in.grad, torch_in.grad, rtol=1e-5, atol=1e-5)
    assert ours.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_instance_norm_layer_is_torchs_class_without_state():
    layer = norm_layer("instance")(8)
    assert isinstance(layer, nn.InstanceNorm2d) and not layer.affine
    assert layer.state_dict() == {}


def test_unbatched_input_takes_the_standard_path():
    image = torch.randn(4, 6, 6)
    torch.testing.assert_close(InstanceNorm2d(4)(image), nn.InstanceNorm2d(4)(image))

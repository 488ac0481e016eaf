"""Johnson's transformation network and the AdaIN decoder: the anchors' parameter counts (their
outputs on seeded weights are compared in test_golden_outputs.py), and any image size their
``size_multiple`` allows."""

import pytest
import torch

from unpaired.nn.style import AdaINDecoder, TransformerNet


def parameters(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_parameter_counts_equal_the_anchors() -> None:
    # pytorch/examples' TransformerNet() and naoto0804/pytorch-AdaIN's net.decoder, counted with
    # their code at the commits in tests/golden/README.md
    assert parameters(TransformerNet()) == 1_679_235
    assert parameters(AdaINDecoder()) == 3_505_219


@pytest.mark.parametrize(
    ("net", "channels", "scale"), [(TransformerNet(8, 1), 3, 1), (AdaINDecoder(), 512, 8)]
)
def test_output_sizes(net: torch.nn.Module, channels: int, scale: int) -> None:
    with torch.no_grad():
        out = net(torch.randn(1, channels, 24 // scale, 40 // scale))
    assert out.shape == (1, 3, 24, 40)
    assert net.size_multiple in (4, 8)

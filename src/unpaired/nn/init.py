"""Weight initialisation as in the authors' ``init_weights``."""

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import init
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

_WEIGHT_INITS: dict[str, Callable[[torch.Tensor, float], object]] = {
    "normal": lambda w, gain: init.normal_(w, 0.0, gain),
    "xavier": lambda w, gain: init.xavier_normal_(w, gain=gain),
    "kaiming": lambda w, gain: init.kaiming_normal_(w, a=0, mode="fan_in"),  # gain unused
    "orthogonal": lambda w, gain: init.orthogonal_(w, gain=gain),
}


def init_weights(net: nn.Module, init_type: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise ``net`` in place and return it.

    Conv and linear weights follow ``init_type`` (normal N(0, gain), xavier normal, kaiming
    normal with a=0 and fan_in, orthogonal), their biases are zeroed; batch-norm weights are
    drawn from N(1, gain) and their biases zeroed. Other modules are left alone.
    """
    if init_type not in _WEIGHT_INITS:
        raise ValueError(f"unknown init_type {init_type!r}; expected one of {tuple(_WEIGHT_INITS)}")
    init_weight = _WEIGHT_INITS[init_type]
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, _ConvNd | nn.Linear):
                init_weight(m.weight, gain)
                if m.bias is not None:
                    init.zeros_(m.bias)
            elif isinstance(m, _BatchNorm) and m.affine:
                init.normal_(m.weight, 1.0, gain)
                init.zeros_(m.bias)
    return net

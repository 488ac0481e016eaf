"""Normalisation layer factories shared by the generators and discriminators."""

from collections.abc import Callable
from functools import partial

from torch import nn

NORM_KINDS = ("instance", "batch", "none")


def norm_layer(kind: str) -> Callable[[int], nn.Module]:
    """Return a factory ``channels -> norm module`` for ``kind``.

    Instance norm is non-affine and keeps no running statistics, as in the authors' code, so it
    holds no parameters; batch norm is affine with running statistics.
    """
    if kind == "instance":
        return partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if kind == "batch":
        return partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if kind == "none":
        return nn.Identity  # ignores the channel count
    raise ValueError(f"unknown norm {kind!r}; expected one of {NORM_KINDS}")


def uses_bias(kind: str) -> bool:
    """Whether a conv followed by a ``kind`` norm carries a bias.

    Batch norm's affine shift makes a bias redundant. The authors also drop it with no norm at
    all, which leaves those convs without any offset; we keep it there (a deliberate difference
    from their code, which only affects parameter counts for ``"none"``).
    """
    norm_layer(kind)  # validates the name
    return kind != "batch"

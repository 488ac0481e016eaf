"""The pieces of one optimiser update that do not depend on the method: is it finite, can the
optimiser skip it on the device, are the gradient options sound."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from torch import Tensor
from torch.optim import Optimizer

from unpaired.errors import ConfigError

GRADIENT_CLIP_ALGORITHMS = ("norm", "value")


def finite(loss: Tensor, optimizers: Iterable[Optimizer]) -> Tensor:
    """Whether ``loss`` and every gradient of ``optimizers``' parameters are finite: one fused
    norm over all gradients, a boolean on their device (no host sync)."""
    grads = [
        p.grad
        for optimizer in optimizers
        for group in optimizer.param_groups
        for p in group["params"]
        if p.grad is not None
    ]
    total = loss.detach().float()
    if grads:
        norms = torch._foreach_norm(grads)
        total = total + torch.stack([norm.float() for norm in norms]).sum()
    return torch.isfinite(total)


def scales_gradients(precision: Precision) -> bool:
    """Whether a grad scaler (16-mixed) multiplies the gradients and checks them itself."""
    return isinstance(precision, MixedPrecision) and precision.scaler is not None


#: torch's fused optimisers skip an update when their ``found_inf`` attribute holds 1: a private
#: protocol between them and torch's grad scaler (``_step_supports_amp_scaling``), in place for
#: fused Adam, AdamW and SGD on CPUs and GPUs from torch 2.4 on. Where it is not (another torch,
#: another optimiser), the update is decided on the host instead: the same skip, one sync more.
FOUND_INF_PROTOCOL = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 4)


def skips_on_device(optimizer: Optimizer, precision: Precision) -> bool:
    """Whether ``optimizer`` can skip an update by a flag on the device (see
    :data:`FOUND_INF_PROTOCOL`; not under a grad scaler, which passes its own flag)."""
    fused = bool(optimizer.defaults.get("fused"))
    return (
        FOUND_INF_PROTOCOL
        and fused
        and getattr(optimizer, "_step_supports_amp_scaling", False)
        and not scales_gradients(precision)
    )


def check_gradient_options(
    grad_clip_val: float | None, grad_clip_algorithm: str, accumulate_grad_batches: int
) -> None:
    """Raises:
    ConfigError: a clipping threshold that is not positive, an unknown clipping algorithm, or
        an accumulation that is not a whole number >= 1 (each message names the key)."""
    if grad_clip_val is not None and grad_clip_val <= 0:
        raise ConfigError(
            f"model.grad_clip_val={grad_clip_val}: set a positive threshold, or null to turn "
            "gradient clipping off."
        )
    if grad_clip_algorithm not in GRADIENT_CLIP_ALGORITHMS:
        raise ConfigError(
            f"model.grad_clip_algorithm={grad_clip_algorithm!r} is not an option; use 'norm' "
            "(clip the total 2-norm) or 'value' (clip every element)."
        )
    if not isinstance(accumulate_grad_batches, int) or accumulate_grad_batches < 1:
        raise ConfigError(
            f"model.accumulate_grad_batches={accumulate_grad_batches!r}: set a whole number "
            ">= 1 (1: update after every batch)."
        )

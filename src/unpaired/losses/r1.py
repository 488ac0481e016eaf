"""The R1 penalty (Mescheder et al., ICML 2018): the zero-centred gradient penalty on real images
that StarGAN v2 trains its discriminator with (the authors' ``r1_reg``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def r1_penalty(prediction: Tensor, inputs: Tensor, create_graph: bool = True) -> Tensor:
    """``0.5 * E[||grad_x D(x)||^2]``: half the squared norm of the gradient of the
    discriminator's ``prediction`` with respect to its ``inputs`` (which require grad), summed
    over each image's values, averaged over the batch."""
    (grad,) = torch.autograd.grad(prediction.sum(), inputs, create_graph=create_graph)
    return 0.5 * grad.square().flatten(1).sum(1).mean()


def discriminate_with_r1(
    discriminator: Callable[[Tensor], Tensor], real: Tensor
) -> tuple[Tensor, Tensor]:
    """``discriminator(real)`` and its R1 penalty at ``real``, from one forward pass.

    The penalty is a gradient, so both are computed with gradients enabled wherever this is
    called, as :func:`~unpaired.losses.adversarial.gradient_penalty` is: in validation too, where
    Lightning runs under inference mode; there they are measured, not trained (detached, no graph
    kept for a backward pass).
    """
    trains = torch.is_grad_enabled()
    with torch.inference_mode(False), torch.enable_grad():
        inputs = real.detach().clone().requires_grad_(True)
        prediction = discriminator(inputs)
        penalty = r1_penalty(prediction, inputs, create_graph=trains)
    if trains:
        return prediction, penalty
    return prediction.detach(), penalty.detach()

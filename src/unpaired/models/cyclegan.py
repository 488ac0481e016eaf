"""CycleGAN (Zhu et al., ICCV 2017) with the authors' update order, losses and weights."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn
from torch.nn import Parameter

from unpaired.losses import AdversarialLoss, gradient_penalty
from unpaired.models.base import DIRECTIONS, Batch, GANModule, LossTerms, Outputs
from unpaired.nn import init_weights
from unpaired.utils.image_pool import ImagePool


class CycleGAN(GANModule):
    """Two generators (``G_AB``: A→B, ``G_BA``: B→A) and two discriminators (``D_A`` judges domain
    A, ``D_B`` domain B).

    Per iteration, as in the authors' code: one forward of both generators; a generator update
    (adversarial + cycle + identity) with the discriminators frozen; then a discriminator update
    on fakes drawn from a history pool, each discriminator loss halved.

    Args:
        generator, discriminator: Hydra nodes (``_target_`` + arguments); each is built twice.
        gan_mode: ``lsgan`` | ``vanilla`` | ``hinge`` | ``wgangp``.
        lambda_A, lambda_B: weights of the cycle losses A→B→A and B→A→B.
        lambda_identity: identity loss weight relative to the cycle weight of the same domain
            (0.5 means an effective weight of 5 with lambda 10); 0 turns it off.
        lambda_gp: gradient-penalty weight, used with ``wgangp`` only.
        pool_size: images kept in each history pool; 0 disables the pools.
        init_type, init_gain: weight initialisation of all four networks.
        gradient_options: ``grad_clip_val``, ``grad_clip_algorithm``,
            ``accumulate_grad_batches``: see :class:`GANModule`.
    """

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        optimizer: Mapping[str, Any],
        scheduler: Mapping[str, Any] | None = None,
        scheduler_interval: str = "epoch",
        gan_mode: str = "lsgan",
        lambda_A: float = 10.0,
        lambda_B: float = 10.0,
        lambda_identity: float = 0.5,
        lambda_gp: float = 10.0,
        pool_size: int = 50,
        init_type: str = "normal",
        init_gain: float = 0.02,
        **gradient_options: Any,
    ) -> None:
        super().__init__(optimizer, scheduler, scheduler_interval, **gradient_options)
        self.save_hyperparameters()

        def build(node: Mapping[str, Any]) -> nn.Module:
            return init_weights(instantiate(node), init_type, init_gain)

        self.G_AB, self.G_BA = build(generator), build(generator)
        self.D_A, self.D_B = build(discriminator), build(discriminator)
        self.adversarial = AdversarialLoss(gan_mode)
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)

    def generator_parameters(self) -> Iterator[Parameter]:
        return chain(self.G_AB.parameters(), self.G_BA.parameters())

    def discriminator_parameters(self) -> Iterator[Parameter]:
        return chain(self.D_A.parameters(), self.D_B.parameters())

    def generate(self, batch: Batch) -> Outputs:
        fake_B = self.G_AB(batch["A"])
        fake_A = self.G_BA(batch["B"])
        return {
            "fake_B": fake_B,
            "rec_A": self.G_BA(fake_B),
            "fake_A": fake_A,
            "rec_B": self.G_AB(fake_A),
        }

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        real_A, real_B = batch["A"], batch["B"]
        terms = {
            "G_adv_AB": self.adversarial.generator(self.D_B(outputs["fake_B"])),
            "G_adv_BA": self.adversarial.generator(self.D_A(outputs["fake_A"])),
            "cycle_A": F.l1_loss(outputs["rec_A"], real_A) * hp.lambda_A,
            "cycle_B": F.l1_loss(outputs["rec_B"], real_B) * hp.lambda_B,
        }
        if hp.lambda_identity > 0:
            # A generator fed an image of its own target domain should leave it unchanged.
            terms["idt_A"] = F.l1_loss(self.G_BA(real_A), real_A) * hp.lambda_A * hp.lambda_identity
            terms["idt_B"] = F.l1_loss(self.G_AB(real_B), real_B) * hp.lambda_B * hp.lambda_identity
        loss = sum(terms.values())
        return loss, {"G": loss, **terms}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        fake_A, fake_B = outputs["fake_A"].detach(), outputs["fake_B"].detach()
        if self.training:  # validation must not disturb the pools
            # B's pool first, as the authors' code: a seeded run draws the same pool choices
            fake_B, fake_A = self.pool_B.query(fake_B), self.pool_A.query(fake_A)
        terms = {
            "D_A": self._discriminator_term(self.D_A, batch["A"], fake_A),
            "D_B": self._discriminator_term(self.D_B, batch["B"], fake_B),
        }
        loss = terms["D_A"] + terms["D_B"]
        return loss, {"D": loss, **terms}

    def _discriminator_term(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        loss = 0.5 * (
            self.adversarial.real(discriminator(real)) + self.adversarial.fake(discriminator(fake))
        )
        if self.adversarial.mode == "wgangp":
            loss = loss + gradient_penalty(discriminator, real, fake, self.hparams.lambda_gp)
        return loss

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        return {
            "real_A": batch["A"],
            "fake_B": outputs["fake_B"],
            "rec_A": outputs["rec_A"],
            "real_B": batch["B"],
            "fake_A": outputs["fake_A"],
            "rec_B": outputs["rec_B"],
        }

    def translate(self, images: Tensor, direction: str = "AtoB") -> Tensor:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        return (self.G_AB if direction == "AtoB" else self.G_BA)(images)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["image_pools"] = {"A": self.pool_A.pool_state(), "B": self.pool_B.pool_state()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        pools = checkpoint.get("image_pools")
        if pools is not None:
            self.pool_A.load_pool_state(pools["A"])
            self.pool_B.load_pool_state(pools["B"])

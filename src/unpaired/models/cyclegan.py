"""CycleGAN (Zhu et al., ICCV 2017) with the authors' update order, losses and weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from unpaired.models.base import DIRECTIONS, Batch, LossTerms, OptimizerGroup, TrainingStep
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs
from unpaired.utils.image_pool import ImagePool


class CycleGAN(GANModule):
    """Two generators (``G_AB``: A→B, ``G_BA``: B→A) and two discriminators (``D_A`` judges domain
    A, ``D_B`` domain B).

    Per iteration, as in the authors' code: one forward of both generators; a generator update
    (adversarial + cycle + identity) with the discriminators frozen; then a discriminator update
    on fakes drawn from a history pool, each discriminator loss halved.

    Args:
        generator, discriminator: Hydra nodes (``_target_`` + arguments) or modules; each is
            built twice.
        lambda_A, lambda_B: weights of the cycle losses A→B→A and B→A→B.
        lambda_identity: identity loss weight relative to the cycle weight of the same domain
            (0.5 means an effective weight of 5 with lambda 10); 0 turns it off.
        pool_size: images kept in each history pool; 0 disables the pools.
        common: ``gan_mode``, ``lambda_gp`` (:class:`~unpaired.models.gan.GANModule`) and the
            optimiser, schedule, initialisation and gradient options of
            :class:`~unpaired.models.base.GenerativeModule`.
    """

    generator_networks = ("G_AB", "G_BA")
    discriminator_networks = ("D_A", "D_B")
    fakes_first = False  # the authors' backward_D_basic: D(real), then D(fake)

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        lambda_A: float = 10.0,
        lambda_B: float = 10.0,
        lambda_identity: float = 0.5,
        pool_size: int = 50,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.save_hyperparameters()
        self.G_AB, self.G_BA = self.network(generator), self.network(generator)
        self.D_A, self.D_B = self.network(discriminator), self.network(discriminator)
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)

    def optimizer_groups(self) -> tuple[OptimizerGroup, ...]:
        return (
            OptimizerGroup("G", self.generator_networks),
            OptimizerGroup("D", self.discriminator_networks),
        )

    def training_steps(self) -> tuple[TrainingStep, ...]:
        return (
            TrainingStep(("G",), self.generator_loss),
            TrainingStep(("D",), self.discriminator_loss),
        )

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
        real_term, fake_term, penalty = self.discriminator_terms(discriminator, real, fake)
        loss = 0.5 * (real_term + fake_term)
        return loss if penalty is None else loss + penalty

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

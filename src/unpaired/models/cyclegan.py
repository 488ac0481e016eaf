"""CycleGAN (Zhu et al., ICCV 2017) with the authors' update order, losses and weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from unpaired.domains import Translation
from unpaired.models.base import Batch, LossTerms
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs
from unpaired.utils.image_pool import ImagePool


class CycleGAN(GANModule):
    """Two generators (``G_AB``: A→B, ``G_BA``: B→A) and two discriminators (``D_A`` judges domain
    A, ``D_B`` domain B), A and B being the model's two domains, whatever their names
    (``model.domains``; logged names use them: ``train/cycle_A``, ``train/G_adv_AB``).

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
    history_pools = {"A": "pool_A", "B": "pool_B"}  # saved in checkpoints
    fakes_first = False  # the authors' backward_D_basic: D(real), then D(fake)
    update_order = ("G", "D")  # the authors' optimize_parameters: G's update, then D's

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

    def generate(self, batch: Batch) -> Outputs:
        a, b = self.domains
        fake_b = self.G_AB(batch[a])
        fake_a = self.G_BA(batch[b])
        return {
            f"fake_{b}": fake_b,
            f"rec_{a}": self.G_BA(fake_b),
            f"fake_{a}": fake_a,
            f"rec_{b}": self.G_AB(fake_a),
        }

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        a, b = self.domains
        forward, back = self.translations
        real_a, real_b = batch[a], batch[b]
        terms = {
            f"G_adv_{forward.suffix}": self.adversarial.generator(self.D_B(outputs[f"fake_{b}"])),
            f"G_adv_{back.suffix}": self.adversarial.generator(self.D_A(outputs[f"fake_{a}"])),
            f"cycle_{a}": F.l1_loss(outputs[f"rec_{a}"], real_a) * hp.lambda_A,
            f"cycle_{b}": F.l1_loss(outputs[f"rec_{b}"], real_b) * hp.lambda_B,
        }
        if hp.lambda_identity > 0:
            # A generator fed an image of its own target domain should leave it unchanged.
            identity_a = F.l1_loss(self.G_BA(real_a), real_a)
            identity_b = F.l1_loss(self.G_AB(real_b), real_b)
            terms[f"idt_{a}"] = identity_a * hp.lambda_A * hp.lambda_identity
            terms[f"idt_{b}"] = identity_b * hp.lambda_B * hp.lambda_identity
        loss = sum(terms.values())
        return loss, {"G": loss, **terms}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        a, b = self.domains
        fake_a, fake_b = outputs[f"fake_{a}"].detach(), outputs[f"fake_{b}"].detach()
        if self.training:  # validation must not disturb the pools
            # B's pool first, as the authors' code: a seeded run draws the same pool choices
            fake_b, fake_a = self.pool_B.query(fake_b), self.pool_A.query(fake_a)
        terms = {
            f"D_{a}": self._discriminator_term(self.D_A, batch[a], fake_a),
            f"D_{b}": self._discriminator_term(self.D_B, batch[b], fake_b),
        }
        loss = terms[f"D_{a}"] + terms[f"D_{b}"]
        return loss, {"D": loss, **terms}

    def _discriminator_term(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        real_term, fake_term, penalty = self.discriminator_terms(discriminator, real, fake)
        loss = 0.5 * (real_term + fake_term)
        return loss if penalty is None else loss + penalty

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        a, b = self.domains
        return {
            f"real_{a}": batch[a],
            f"fake_{b}": outputs[f"fake_{b}"],
            f"rec_{a}": outputs[f"rec_{a}"],
            f"real_{b}": batch[b],
            f"fake_{a}": outputs[f"fake_{a}"],
            f"rec_{b}": outputs[f"rec_{b}"],
        }

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        forward, _ = self.translations
        return (self.G_AB if translation == forward else self.G_BA)(images)

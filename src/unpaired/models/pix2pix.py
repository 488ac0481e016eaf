"""pix2pix (Isola et al., CVPR 2017): paired translation with a conditional GAN and an L1 loss.

The paired baseline of the unpaired methods: it needs aligned data (each A image with its true
B image, :mod:`unpaired.data.aligned`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from unpaired.domains import Translation
from unpaired.models.base import Batch, LossTerms
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs


@contextmanager
def paper_inference(net: nn.Module) -> Iterator[None]:
    """Run ``net`` as the pix2pix paper does at test time: dropout on, and batch norm normalising
    with the statistics of the batch at hand (not the running averages, which are left as they
    are). Every module's mode is restored afterwards.

    Synchronised batch norm (DDP with ``trainer.sync_batchnorm``) runs as plain batch norm
    meanwhile: synchronised, it would pool the statistics of every process's test images, and
    need the processes to translate in lockstep.
    """
    modes = [(module, module.training) for module in net.modules()]
    batch_norms = [m for m in net.modules() if isinstance(m, _BatchNorm)]
    tracking = [m.track_running_stats for m in batch_norms]
    synchronised = [m for m in batch_norms if isinstance(m, nn.SyncBatchNorm)]
    net.train()
    for module in batch_norms:
        module.track_running_stats = False  # in training mode: batch statistics, no update
    for module in synchronised:
        module.__class__ = nn.BatchNorm2d  # the same state, without the synchronisation
    try:
        yield
    finally:
        for module in synchronised:
            module.__class__ = nn.SyncBatchNorm
        for module, track in zip(batch_norms, tracking, strict=True):
            module.track_running_stats = track
        for module, training in modes:
            module.training = training


class Pix2Pix(GANModule):
    """One generator ``G`` (A→B) and a conditional discriminator ``D`` that judges pairs
    ``cat(A, B)`` along the channels (so its input has ``input_nc + output_nc`` channels).

    Per iteration, as in the authors' code: one forward of ``G``; a discriminator update,
    ``0.5 * (fake(D(A, G(A))) + real(D(A, B)))``, no image pool; then a generator update,
    ``GAN(D(A, G(A))) + lambda_L1 * |G(A) - B|``.

    At evaluation (validation, :meth:`translate`) ``paper_inference`` runs ``G`` as the paper
    does: "we apply dropout at test time, and we apply batch normalization using the statistics
    of the test batch", one image at a time like the authors' test script (batch size 1, no
    ``--eval``). Outputs are then stochastic. False gives the usual eval mode (running statistics,
    no dropout).

    Args:
        generator, discriminator: Hydra nodes (``_target_`` + arguments) or modules.
        lambda_L1: weight of the L1 loss to the true B image (100).
        paper_inference: see above.
        common: ``gan_mode`` (the paper's: ``vanilla``), ``lambda_gp``
            (:class:`~unpaired.models.gan.GANModule`) and the optimiser, schedule,
            initialisation (normal, 0.02) and gradient options of
            :class:`~unpaired.models.base.GenerativeModule`.
    """

    generator_networks = ("G",)
    discriminator_networks = ("D",)

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        lambda_L1: float = 100.0,
        paper_inference: bool = True,
        **common: Any,
    ) -> None:
        super().__init__(**{"gan_mode": "vanilla", **common})
        self.save_hyperparameters()
        self.G = self.network(generator)
        self.D = self.network(discriminator)

    @property
    def translations(self) -> tuple[Translation, ...]:
        a, b = self.domains
        return (Translation(a, b),)

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        if self.training or not self.hparams.paper_inference:
            return self.G(images)
        with paper_inference(self.G):
            return torch.cat([self.G(image[None]) for image in images])

    def generate(self, batch: Batch) -> Outputs:
        a, b = self.domains
        return {f"fake_{b}": self.translate_as(batch[a], self.translations[0])}

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        a, b = self.domains
        real_a, real_b, fake_b = batch[a], batch[b], outputs[f"fake_{b}"]
        adversarial_name = f"G_adv_{self.translations[0].suffix}"
        terms = {
            adversarial_name: self.adversarial.generator(self.D(torch.cat([real_a, fake_b], 1))),
            "L1": F.l1_loss(fake_b, real_b) * self.hparams.lambda_L1,
        }
        loss = terms[adversarial_name] + terms["L1"]
        return loss, {"G": loss, **terms}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        a, b = self.domains
        real_a = batch[a]
        fake_ab = torch.cat([real_a, outputs[f"fake_{b}"]], 1)
        real_ab = torch.cat([real_a, batch[b]], 1)
        # with wgangp the penalty interpolates the two pairs: their condition A is the same
        real, fake, penalty = self.discriminator_terms(self.D, real_ab, fake_ab)
        terms = {"D_fake": fake, "D_real": real}
        loss = 0.5 * (fake + real)
        if penalty is not None:
            terms["D_gp"] = penalty
            loss = loss + penalty
        return loss, {"D": loss, **terms}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        a, b = self.domains
        return {f"real_{a}": batch[a], f"fake_{b}": outputs[f"fake_{b}"], f"real_{b}": batch[b]}

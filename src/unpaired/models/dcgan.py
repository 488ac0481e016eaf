"""DCGAN (Radford et al., ICLR 2016): images of one domain from noise, the unconditional GAN the
translation methods grew out of. Its own files: this module, :mod:`unpaired.nn.dcgan`,
``conf/model/dcgan.yaml`` and ``conf/experiment/dcgan/``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from unpaired.models.base import Batch, LossTerms
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs


class DCGAN(GANModule):
    """A generator ``G`` of noise and a discriminator ``D``, trained as in pytorch/examples'
    ``dcgan/main.py``: per batch, one draw of noise ``z ~ N(0, I)`` and ``fake = G(z)``; a
    discriminator update on the real batch and on ``fake`` (detached), its two BCE terms summed;
    then a generator update with the non-saturating loss ``BCE(D(fake), real)``. Adam 2e-4
    (0.5, 0.999) and N(0, 0.02) weights (batch-norm scales N(1, 0.02)) in the config.

    Validation and its grids use ``num_fixed_samples`` fixed noise vectors (drawn once from
    ``noise_seed``, kept in the checkpoint), so the grids of different epochs show the same
    samples; :meth:`sample` draws new ones.

    Args:
        generator, discriminator: Hydra nodes or modules (``unpaired.nn.dcgan``); the generator
            has a ``nz`` attribute, the length of its noise vectors.
        num_fixed_samples: fixed noise vectors for validation.
        noise_seed: their seed.
        common: ``gan_mode`` (the paper's: ``vanilla``) and the optimiser, schedule,
            initialisation and gradient options of
            :class:`~unpaired.models.base.GenerativeModule`.
    """

    default_domains = ("A",)
    domain_count = 1
    generator_networks = ("G",)
    discriminator_networks = ("D",)
    fakes_first = False  # their D step: the real batch, then the fakes

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        num_fixed_samples: int = 16,
        noise_seed: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(**{"gan_mode": "vanilla", **common})
        self.save_hyperparameters()
        self.G = self.network(generator)
        self.D = self.network(discriminator)
        seeded = torch.Generator().manual_seed(noise_seed)
        fixed = torch.randn(num_fixed_samples, self.G.nz, 1, 1, generator=seeded)
        self.register_buffer("fixed_noise", fixed)

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` noise vectors ``(n, nz, 1, 1)`` from N(0, I), on the model's device."""
        device = generator.device if generator is not None else self.device
        return torch.randn(n, self.G.nz, 1, 1, generator=generator, device=device).to(self.device)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new images ``(n, C, 64, 64)`` in [-1, 1] (wrap in ``torch.no_grad()``)."""
        return self.G(self.noise(n, generator))

    def generate(self, batch: Batch) -> Outputs:
        (domain,) = self.domains
        n = len(batch[domain])
        if self.training:
            noise = self.noise(n)
        else:  # the fixed samples, as many as the batch (repeated if it is larger)
            repeats = -(-n // len(self.fixed_noise))
            noise = self.fixed_noise.repeat(repeats, 1, 1, 1)[:n]
        return {"fake": self.G(noise)}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        (domain,) = self.domains
        real, fake, penalty = self.discriminator_terms(self.D, batch[domain], outputs["fake"])
        terms = {"D_real": real, "D_fake": fake}
        loss = real + fake
        if penalty is not None:
            terms["D_gp"] = penalty
            loss = loss + penalty
        return loss, {"D": loss, **terms}

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        loss = self.adversarial.generator(self.D(outputs["fake"]))
        return loss, {"G": loss}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        (domain,) = self.domains
        return {f"real_{domain}": batch[domain], "sample": outputs["fake"]}

"""A convolutional variational auto-encoder (Kingma & Welling, ICLR 2014): one domain, one
optimiser, reconstruction + KL, and sampling from the prior. Its own files: this module,
:mod:`unpaired.nn.vae`, ``conf/model/vae.yaml`` and ``conf/experiment/vae/``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from unpaired.models.base import Batch, GenerativeModule, LossTerms, OptimizerGroup, TrainingStep
from unpaired.models.outputs import Outputs


def gaussian_kl(mean: Tensor, log_variance: Tensor) -> Tensor:
    """KL(N(mean, exp(log_variance)) || N(0, I)) of each item, summed over the code:
    ``-0.5 * sum(1 + log_variance - mean^2 - exp(log_variance))``."""
    return -0.5 * (1 + log_variance - mean.pow(2) - log_variance.exp()).flatten(1).sum(1)


class VAE(GenerativeModule):
    """An ``encoder`` to a diagonal Gaussian code and a ``decoder`` back to images.

    Per batch one update of both by one optimiser, minimising the negative evidence lower bound
    per image: the squared error of the reconstruction of a code sampled with the
    reparameterisation trick, summed over its pixels (the log-likelihood of a Gaussian decoder
    of unit variance, up to a constant and a factor 2), plus ``kl_weight`` times the KL
    divergence of the code's distribution from the prior N(0, I); both averaged over the batch.
    ``kl_weight`` 1 is the VAE, other values a beta-VAE.

    Outside training the code's mean is decoded (the reconstruction), and validation grids show
    ``num_fixed_samples`` images decoded from fixed draws of the prior (seeded by
    ``noise_seed``, kept in the checkpoint); :meth:`sample` draws new ones.

    Args:
        encoder, decoder: Hydra nodes or modules (``unpaired.nn.vae``), with a common
            ``latent_dim``.
        kl_weight: the weight of the KL term.
        num_fixed_samples, noise_seed: the fixed prior draws of the validation grids.
        common: the optimiser, schedule, initialisation and gradient options of
            :class:`~unpaired.models.base.GenerativeModule`.
    """

    default_domains = ("A",)
    domain_count = 1
    generator_networks = ("encoder", "decoder")

    def __init__(
        self,
        encoder: Mapping[str, Any],
        decoder: Mapping[str, Any],
        kl_weight: float = 1.0,
        num_fixed_samples: int = 16,
        noise_seed: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.save_hyperparameters()
        self.encoder = self.network(encoder)
        self.decoder = self.network(decoder)
        self.kl_weight = kl_weight
        seeded = torch.Generator().manual_seed(noise_seed)
        codes = torch.randn(num_fixed_samples, self.decoder.latent_dim, generator=seeded)
        self.register_buffer("fixed_codes", codes)

    def optimizer_groups(self) -> tuple[OptimizerGroup, ...]:
        return (OptimizerGroup("VAE", self.generator_networks),)

    def training_steps(self) -> tuple[TrainingStep, ...]:
        return (TrainingStep(("VAE",), self.loss),)

    def generate(self, batch: Batch) -> Outputs:
        (domain,) = self.domains
        mean, log_variance = self.encoder(batch[domain])
        code = mean + torch.randn_like(mean) * (0.5 * log_variance).exp() if self.training else mean
        return {"mean": mean, "log_variance": log_variance, "recon": self.decoder(code)}

    def loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        (domain,) = self.domains
        error = (outputs["recon"] - batch[domain]).pow(2).flatten(1).sum(1).mean()
        kl = gaussian_kl(outputs["mean"], outputs["log_variance"]).mean()
        loss = error + self.kl_weight * kl
        return loss, {"VAE": loss, "recon": error, "KL": kl}

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` images decoded from draws of the prior (wrap in ``torch.no_grad()``)."""
        device = generator.device if generator is not None else self.device
        codes = torch.randn(n, self.decoder.latent_dim, generator=generator, device=device)
        return self.decoder(codes.to(self.device))

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        (domain,) = self.domains
        visuals = {f"real_{domain}": batch[domain], "recon": outputs["recon"]}
        if not self.training:
            n = len(batch[domain])
            repeats = -(-n // len(self.fixed_codes))
            visuals["sample"] = self.decoder(self.fixed_codes.repeat(repeats, 1)[:n])
        return visuals

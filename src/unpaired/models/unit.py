"""UNIT (Liu et al., NeurIPS 2017) as in the authors' PyTorch trainer (``UNIT_Trainer``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from unpaired.domains import Translation
from unpaired.models.autoencoder_gan import AutoEncoderGAN
from unpaired.models.base import Batch, LossTerms
from unpaired.models.outputs import Outputs
from unpaired.nn.unit import VAEGenerator, share_latent_blocks


def latent_kl(code: Tensor) -> Tensor:
    """The authors' KL term of a code ``mu`` of the Gaussian N(mu, I): ``mean(mu**2)``.

    The KL divergence to N(0, I) is ``0.5 * sum(mu**2)``; the authors average instead of summing
    and drop the 0.5, which only rescales the weight ``recon_kl_w``.
    """
    return code.pow(2).mean()


class UNIT(AutoEncoderGAN):
    """Two VAE-like auto-encoders sharing one latent space, two multi-scale discriminators.

    While training, a code is sampled by adding unit-variance noise to the encoder's output, and
    the same sample is decoded into its own domain (reconstruction) and into the other one
    (translation); the translation is encoded again and decoded back (cycle). Outside training
    codes are used without noise, as in the authors' sampling, so :meth:`translate` is
    deterministic.

    Generator loss (authors' names for the weights): ``gan_w`` x adversarial + ``recon_x_w`` x
    L1 reconstruction + ``recon_kl_w`` x :func:`latent_kl` of the codes + ``recon_x_cyc_w`` x L1
    cycle reconstruction + ``recon_kl_cyc_w`` x :func:`latent_kl` of the translations' codes +
    ``vgg_w`` x the perceptual loss of each translation against its input
    (:meth:`~unpaired.models.autoencoder_gan.AutoEncoderGAN.perceptual_terms`; 0 turns it off, as
    in all their configs but unit_gta2city's).

    Args:
        n_shared_blocks: residual blocks next to the latent code tied between the two domains
            (the paper's weight sharing); 0, as in the authors' PyTorch code, shares none.
        Others: see :class:`~unpaired.models.autoencoder_gan.AutoEncoderGAN`.
    """

    generator_type = VAEGenerator

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        recon_x_w: float = 10.0,
        recon_kl_w: float = 0.01,
        recon_x_cyc_w: float = 10.0,
        recon_kl_cyc_w: float = 0.01,
        n_shared_blocks: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(generator, discriminator, **common)
        self.save_hyperparameters()
        share_latent_blocks(self.gen_A, self.gen_B, n_shared_blocks)

    def _sample(self, code: Tensor) -> Tensor:
        """A draw from N(code, I) while training; the code itself otherwise."""
        return code + torch.randn_like(code) if self.training else code

    def generate(self, batch: Batch) -> Outputs:
        a, b = self.domains
        coder = self.autoencoders
        latent = {name: coder[name].encode(batch[name]) for name in (a, b)}
        z = {name: self._sample(latent[name]) for name in (a, b)}
        fake = {b: coder[b].decode(z[a]), a: coder[a].decode(z[b])}
        # the translations' codes: latent_A_cycle encodes fake_B, which came from A
        latent_cycle = {a: coder[b].encode(fake[b]), b: coder[a].encode(fake[a])}
        outputs = {}
        for name in (a, b):
            outputs[f"latent_{name}"] = latent[name]
            outputs[f"recon_{name}"] = coder[name].decode(z[name])
            outputs[f"fake_{name}"] = fake[name]
            outputs[f"latent_{name}_cycle"] = latent_cycle[name]
        if self.hparams.recon_x_cyc_w > 0:
            for name in (a, b):
                outputs[f"cycle_{name}"] = coder[name].decode(self._sample(latent_cycle[name]))
        return outputs

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        terms = self.adversarial_terms(outputs)
        for domain in self.domains:
            real = batch[domain]
            terms[f"recon_x_{domain}"] = hp.recon_x_w * F.l1_loss(outputs[f"recon_{domain}"], real)
            terms[f"kl_{domain}"] = hp.recon_kl_w * latent_kl(outputs[f"latent_{domain}"])
            if hp.recon_x_cyc_w > 0:
                cycle = F.l1_loss(outputs[f"cycle_{domain}"], real)
                terms[f"cycle_{domain}"] = hp.recon_x_cyc_w * cycle
            if hp.recon_kl_cyc_w > 0:
                kl_cycle = latent_kl(outputs[f"latent_{domain}_cycle"])
                terms[f"kl_cycle_{domain}"] = hp.recon_kl_cyc_w * kl_cycle
        terms.update(self.perceptual_terms(batch, outputs))
        loss = sum(terms.values())
        return loss, {"G": loss, **terms}

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        """Decode the images' codes (without noise) into the other domain."""
        source, target = self.source_and_target(translation)
        return target.decode(source.encode(images))

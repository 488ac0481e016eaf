"""MUNIT (Huang et al., ECCV 2018) as in the authors' trainer (``MUNIT_Trainer``), with the
methods a translation tool needs to draw several translations of one image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.models.autoencoder_gan import AutoEncoderGAN
from unpaired.models.base import Batch, LossTerms
from unpaired.models.outputs import Outputs
from unpaired.models.references import check_reference_count
from unpaired.nn.munit import AdaINGenerator


class MUNIT(AutoEncoderGAN):
    """Per domain a content encoder, a style encoder and an AdaIN decoder; two multi-scale
    discriminators. Translating A to B decodes A's content with a style code of B.

    While training, the target styles are drawn from N(0, I) for every batch. Generator loss
    (authors' names for the weights): ``gan_w`` x adversarial + ``recon_x_w`` x L1 image
    reconstruction from an image's own codes + ``recon_s_w`` x L1 between the drawn style and
    the style re-encoded from the translation + ``recon_c_w`` x L1 between the content and the
    content re-encoded from the translation + ``recon_x_cyc_w`` x L1 of the style-augmented
    cycle (the translation's content decoded with the image's own style; 0 turns it off, as the
    authors' edges2handbags and edges2shoes configs do; their summer2winter_yosemite256 and
    synthia2cityscape configs set 10) + ``vgg_w`` x the perceptual loss of each translation
    against its input (:meth:`~unpaired.models.autoencoder_gan.AutoEncoderGAN.perceptual_terms`;
    0 turns it off, as in all their configs but synthia2cityscape's).

    Multimodal translation, for a translation tool (``images`` in [-1, 1], ``(N, C, H, W)``;
    ``direction`` ``"AtoB"`` or ``"BtoA"``; wrap calls in ``torch.no_grad()``):

    - :meth:`translate` ``(images, direction) -> (N, C, H, W)``: deterministic, with the first
      fixed style code of the target domain;
    - :meth:`sample` ``(images, direction, num_samples, generator=None) -> (N, S, C, H, W)``:
      ``S`` random style codes (from ``generator`` if given, so a seed reproduces them), the same
      ``S`` codes for every input;
    - :meth:`translate_with_style` ``(images, reference_images, direction)``: with the style of
      reference images of the target domain (one reference for all, or one per image).

    Fixed style codes (``num_fixed_styles`` per domain, drawn once from ``style_seed`` and kept
    in the checkpoint as buffers ``fixed_style_A``/``fixed_style_B``) make evaluation
    deterministic: outside training, ``generate`` (and so the validation losses and ground-truth
    errors) uses the first one, and the validation grids show every one of them for each input,
    so grids of different epochs are comparable. Training grids show the step's own outputs.

    Args:
        num_fixed_styles: fixed style codes per domain (columns per input in validation grids).
        style_seed: seed of the fixed style codes.
        Others: see :class:`~unpaired.models.autoencoder_gan.AutoEncoderGAN`.
    """

    generator_type = AdaINGenerator

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        recon_x_w: float = 10.0,
        recon_s_w: float = 1.0,
        recon_c_w: float = 1.0,
        recon_x_cyc_w: float = 0.0,
        num_fixed_styles: int = 3,
        style_seed: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(generator, discriminator, **common)
        self.save_hyperparameters()
        if num_fixed_styles < 1:
            raise ConfigError(f"model.num_fixed_styles={num_fixed_styles} must be at least 1.")
        seeded = torch.Generator().manual_seed(style_seed)
        shape = (num_fixed_styles, self.style_dim)
        self.register_buffer("fixed_style_A", torch.randn(shape, generator=seeded))
        self.register_buffer("fixed_style_B", torch.randn(shape, generator=seeded))

    @property
    def style_dim(self) -> int:
        return self.gen_A.style_dim

    def random_styles(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` style codes from the prior N(0, I), ``(n, style_dim)``, on the model's device."""
        device = generator.device if generator is not None else self.device
        styles = torch.randn(n, self.style_dim, generator=generator, device=device)
        return styles.to(self.device)

    def _fixed_style(self, domain: str, index: int, n: int) -> Tensor:
        """Fixed style ``index`` of ``domain`` (a domain name), for ``n`` images."""
        role = "AB"[self.domains.index(domain)]  # the buffers are fixed_style_A, fixed_style_B
        return getattr(self, f"fixed_style_{role}")[index].expand(n, -1)

    # ----------------------------------------------------------------------------- training
    def generate(self, batch: Batch) -> Outputs:
        a, b = self.domains
        coder = self.autoencoders
        content, own_style = {}, {}
        for name in (a, b):
            content[name], own_style[name] = coder[name].encode(batch[name])
        # target styles: fake_A renders B's content, so it needs len(real_B) codes of A
        if self.training:
            style = {a: self.random_styles(len(batch[b])), b: self.random_styles(len(batch[a]))}
        else:
            style = {
                a: self._fixed_style(a, 0, len(batch[b])),
                b: self._fixed_style(b, 0, len(batch[a])),
            }
        fake = {a: coder[a].decode(content[b], style[a]), b: coder[b].decode(content[a], style[b])}
        content_cycle, style_cycle = {}, {}
        content_cycle[b], style_cycle[a] = coder[a].encode(fake[a])
        content_cycle[a], style_cycle[b] = coder[b].encode(fake[b])
        outputs = {}
        for name in (a, b):
            outputs[f"recon_{name}"] = coder[name].decode(content[name], own_style[name])
            outputs[f"fake_{name}"] = fake[name]
            outputs[f"content_{name}"] = content[name]
            outputs[f"content_{name}_cycle"] = content_cycle[name]
            outputs[f"style_{name}"] = style[name]
            outputs[f"style_{name}_cycle"] = style_cycle[name]
        if self.hparams.recon_x_cyc_w > 0:
            for name in (a, b):
                outputs[f"cycle_{name}"] = coder[name].decode(content_cycle[name], own_style[name])
        return outputs

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        terms = self.adversarial_terms(outputs)
        for domain in self.domains:
            real = batch[domain]
            recon = F.l1_loss(outputs[f"recon_{domain}"], real)
            style = F.l1_loss(outputs[f"style_{domain}_cycle"], outputs[f"style_{domain}"])
            content = F.l1_loss(outputs[f"content_{domain}_cycle"], outputs[f"content_{domain}"])
            terms[f"recon_x_{domain}"] = hp.recon_x_w * recon
            terms[f"recon_s_{domain}"] = hp.recon_s_w * style
            terms[f"recon_c_{domain}"] = hp.recon_c_w * content
            if hp.recon_x_cyc_w > 0:
                cycle = F.l1_loss(outputs[f"cycle_{domain}"], real)
                terms[f"cycle_{domain}"] = hp.recon_x_cyc_w * cycle
        terms.update(self.perceptual_terms(batch, outputs))
        loss = sum(terms.values())
        return loss, {"G": loss, **terms}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        if self.training:
            return super().visuals(batch, outputs)
        columns: dict[str, Tensor] = {}
        for translation in self.translations:
            source, target = translation.source, translation.target
            columns.update(
                self._fixed_style_columns(translation, batch[source], outputs[f"fake_{target}"])
            )
        return columns

    def _fixed_style_columns(
        self, translation: Translation, real: Tensor, first_translation: Tensor
    ) -> dict[str, Tensor]:
        """``real_X`` then its translation with every fixed style (the first one is given)."""
        source, target = self.source_and_target(translation)
        content, _ = source.encode(real)
        columns = {
            f"real_{translation.source}": real,
            f"fake_{translation.target}_1": first_translation,
        }
        for i in range(1, self.hparams.num_fixed_styles):
            style = self._fixed_style(translation.target, i, len(real))
            columns[f"fake_{translation.target}_{i + 1}"] = target.decode(content, style)
        return columns

    # -------------------------------------------------------------------------- translation
    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        """Deterministic translation, with the target domain's first fixed style code."""
        source, target = self.source_and_target(translation)
        content, _ = source.encode(images)
        return target.decode(content, self._fixed_style(translation.target, 0, len(images)))

    def sample(
        self,
        images: Tensor,
        direction: str | Translation | None = None,
        num_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``num_samples`` translations of each image, ``(N, num_samples, C, H, W)``: sample ``j``
        of every image uses the same random style code ``j``."""
        if num_samples < 1:
            raise ConfigError(f"samples={num_samples} must be at least 1.")
        source, target = self.source_and_target(self.translation(direction))
        content, _ = source.encode(images)
        styles = self.random_styles(num_samples, generator)
        samples = [target.decode(content, style.expand(len(images), -1)) for style in styles]
        return torch.stack(samples, dim=1)

    def translate_with_style(
        self,
        images: Tensor,
        reference_images: Tensor,
        direction: str | Translation | None = None,
    ) -> Tensor:
        """Translate ``images`` with the style of ``reference_images`` (of the target domain):
        one reference for the whole batch, or one per image."""
        check_reference_count(len(reference_images), len(images))
        source, target = self.source_and_target(self.translation(direction))
        content, _ = source.encode(images)
        _, style = target.encode(reference_images)
        return target.decode(content, style.expand(len(images), -1))

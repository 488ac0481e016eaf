"""Recycle-GAN (Bansal et al., ECCV 2018): unpaired video translation with temporal predictors,
as the authors' ``models/recycle_gan_model.py``; ReCycle-GAN (their ``reCycle_gan_model.py``)
with ``image_cycle=true``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.models.base import Batch, LossTerms
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs
from unpaired.utils.image_pool import ImagePool

#: Frames per training window: two given, one predicted.
WINDOW = 3


class RecycleGAN(GANModule):
    """Generators ``G_AB``, ``G_BA`` (per frame), temporal predictors ``P_A``, ``P_B``
    (``P_X(x_0, x_1) ≈ x_2`` within domain X) and discriminators ``D_A``, ``D_B`` (``D_X`` judges
    domain X; the authors' ``D_A`` judges B). Batches hold windows of 3 frames per domain,
    ``N x 3 x C x H x W`` (:mod:`unpaired.data.clips`).

    The generator side's loss (one Adam over G_AB, G_BA, P_A, P_B, as theirs), for A (B alike):

    - adversarial: ``D_B`` on ``G_AB(a_0)``, ``G_AB(a_1)`` and on the predicted
      ``P_B(G_AB(a_0), G_AB(a_1))``;
    - recurrent: ``lambda_A * L1(P_A(a_0, a_1), a_2)``;
    - recycle: ``lambda_A * L1(G_BA(P_B(G_AB(a_0), G_AB(a_1))), a_2)``;
    - with ``image_cycle`` (ReCycle-GAN): ``lambda_A * L1(G_BA(G_AB(a_t)), a_t)`` for t = 0, 1;
    - with ``lambda_identity > 0`` (ReCycle-GAN's script): ``lambda_A * lambda_identity *
      (L1(G_BA(a_0), a_0) + L1(G_BA(a_1), a_1))``;
    - with ``adversarial_prediction`` (their ``--adversarial_loss_p``): ``D_A`` on ``P_A(a_0,
      a_1)``.

    Then the discriminators, ``D_B``'s loss then ``D_A``'s, each the sum of four terms of the
    authors' ``backward_D_basic`` (``0.5 * (real + fake)``): for ``D_B``, real ``b_0``, ``b_1``,
    ``b_2``, ``b_2`` against ``G_AB(a_0)``, ``G_AB(a_1)``, the predicted
    ``P_B(G_AB(a_0), G_AB(a_1))`` and ``P_B(b_0, b_1)``, each drawn through B's history pool in
    that order. The authors step ``D_A`` and ``D_B`` with two Adams; one Adam over both (ours,
    as every GAN here) is the same update, Adam's being element-wise and the two losses sharing
    no parameter.

    Args:
        generator, discriminator: Hydra nodes or modules, each built twice.
        predictor: Hydra node or module of a predictor taking two frames
            (:mod:`unpaired.nn.prediction`), built twice.
        lambda_A, lambda_B: weights of the recurrent, recycle (and image cycle) losses.
        lambda_identity: identity loss weight relative to lambda (0: off, Recycle-GAN's).
        image_cycle: add ReCycle-GAN's per-frame cycle losses.
        adversarial_prediction: also train the predictors adversarially.
        pool_size: images kept in each history pool; 0 (the authors' scripts) disables them.
        common: see :class:`~unpaired.models.gan.GANModule`.
    """

    generator_networks = ("G_AB", "G_BA", "P_A", "P_B")
    discriminator_networks = ("D_A", "D_B")
    history_pools = {"A": "pool_A", "B": "pool_B"}  # saved in checkpoints
    #: What translating runs (the predictors, U-Nets of 256-pixel multiples, do not).
    translation_networks = ("G_AB", "G_BA")
    fakes_first = False  # their backward_D_basic: D(real), then D(fake)
    update_order = ("G", "D")  # their optimize_parameters: G, then the discriminators

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        predictor: Mapping[str, Any],
        lambda_A: float = 10.0,
        lambda_B: float = 10.0,
        lambda_identity: float = 0.0,
        image_cycle: bool = False,
        adversarial_prediction: bool = False,
        pool_size: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.save_hyperparameters()
        self.G_AB, self.G_BA = self.network(generator), self.network(generator)
        self.P_A, self.P_B = self.network(predictor), self.network(predictor)
        self.D_A, self.D_B = self.network(discriminator), self.network(discriminator)
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)

    # --------------------------------------------------------------------------- forward
    def generate(self, batch: Batch) -> Outputs:
        """Per domain X → Y: ``fake_Y`` (every frame translated, ``N x 3 x C x H x W``),
        ``next_Y`` (the prediction from the first two translations), ``rec_X`` (its way back),
        ``pred_X`` (X's own prediction of its third frame)."""
        outputs: dict[str, Tensor] = {}
        for source, target in (self.domains, self.domains[::-1]):
            clip = batch[source]
            if clip.dim() != 5 or clip.shape[1] != WINDOW:
                raise ConfigError(
                    f"RecycleGAN trains on windows of {WINDOW} frames (N x {WINDOW} x C x H x W), "
                    f"got {source} of shape {tuple(clip.shape)}: use a clip data set "
                    f"(data=synthetic_video or data=video_folder) with data.frames={WINDOW}."
                )
            translate, back = self._generators(source)
            fakes = translate(clip.flatten(0, 1)).unflatten(0, clip.shape[:2])
            predicted = self._predictor(target)(fakes[:, 0], fakes[:, 1])
            outputs[f"fake_{target}"] = fakes
            outputs[f"next_{target}"] = predicted
            outputs[f"rec_{source}"] = back(predicted)
            outputs[f"pred_{source}"] = self._predictor(source)(clip[:, 0], clip[:, 1])
        return outputs

    def _generators(self, source: str) -> tuple[nn.Module, nn.Module]:
        """(the translation out of ``source``, the one back)."""
        return (self.G_AB, self.G_BA) if source == self.domains[0] else (self.G_BA, self.G_AB)

    def _predictor(self, domain: str) -> nn.Module:
        return self.P_A if domain == self.domains[0] else self.P_B

    def _discriminator(self, domain: str) -> nn.Module:
        return self.D_A if domain == self.domains[0] else self.D_B

    def _weight(self, domain: str) -> float:
        return self.hparams.lambda_A if domain == self.domains[0] else self.hparams.lambda_B

    # ---------------------------------------------------------------------------- losses
    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        terms: LossTerms = {}
        for translation in self.translations:
            source, target = translation.source, translation.target
            real, weight = batch[source], self._weight(source)
            judge = self._discriminator(target)
            fakes, predicted = outputs[f"fake_{target}"], outputs[f"next_{target}"]
            terms[f"G_adv_{translation.suffix}"] = sum(
                self.adversarial.generator(judge(image))
                for image in (fakes[:, 0], fakes[:, 1], predicted)
            )
            terms[f"recycle_{source}"] = F.l1_loss(outputs[f"rec_{source}"], real[:, 2]) * weight
            terms[f"recurrent_{source}"] = F.l1_loss(outputs[f"pred_{source}"], real[:, 2]) * weight
            if hp.adversarial_prediction:
                own_judge = self._discriminator(source)
                terms[f"pred_adv_{source}"] = self.adversarial.generator(
                    own_judge(outputs[f"pred_{source}"])
                )
            _, back = self._generators(source)
            if hp.image_cycle:
                terms[f"cycle_{source}"] = weight * sum(
                    F.l1_loss(back(fakes[:, t]), real[:, t]) for t in (0, 1)
                )
            if hp.lambda_identity > 0:
                # the generator into ``source`` should leave frames of ``source`` unchanged
                terms[f"idt_{source}"] = (
                    weight
                    * hp.lambda_identity
                    * sum(F.l1_loss(back(real[:, t]), real[:, t]) for t in (0, 1))
                )
        loss = sum(terms.values())
        return loss, {"G": loss, **terms}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """``D_B``'s loss, then ``D_A``'s (the authors' order, which the pools' draws follow)."""
        a, b = self.domains
        loss_b, terms_b = self._judge_loss(batch, outputs, b)
        loss_a, terms_a = self._judge_loss(batch, outputs, a)
        loss = loss_a + loss_b
        return loss, {"D": loss, **terms_a, **terms_b}

    def _judge_loss(self, batch: Batch, outputs: Outputs, domain: str) -> tuple[Tensor, LossTerms]:
        """The four terms of the authors' ``backward_D_*`` for the judge of ``domain``."""
        real = batch[domain]
        fakes = outputs[f"fake_{domain}"].detach()
        candidates = (
            (real[:, 0], fakes[:, 0]),
            (real[:, 1], fakes[:, 1]),
            (real[:, 2], outputs[f"next_{domain}"].detach()),
            (real[:, 2], outputs[f"pred_{domain}"].detach()),
        )
        pool = self.pool_A if domain == self.domains[0] else self.pool_B
        judge = self._discriminator(domain)
        loss = real.new_zeros(())
        for real_frame, fake in candidates:
            if self.training:  # validation must not disturb the pools
                fake = pool.query(fake)
            real_term, fake_term, penalty = self.discriminator_terms(judge, real_frame, fake)
            loss = loss + 0.5 * (real_term + fake_term)
            if penalty is not None:
                loss = loss + penalty
        return loss, {f"D_{domain}": loss}

    # ------------------------------------------------------------------------ using it
    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        """Clips (one grid row per frame): the real window, its per-frame translation, and the
        translation whose third frame is predicted, then its way back (last frame)."""
        shown: dict[str, Tensor] = {}
        for source, target in (self.domains, self.domains[::-1]):
            fakes = outputs[f"fake_{target}"]
            predicted = fakes.clone()
            predicted[:, 2] = outputs[f"next_{target}"]
            recycled = batch[source].clone()
            recycled[:, 2] = outputs[f"rec_{source}"]
            shown[f"real_{source}"] = batch[source]
            shown[f"fake_{target}"] = fakes
            shown[f"next_{target}"] = predicted.detach()
            shown[f"rec_{source}"] = recycled.detach()
        return shown

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
        """Frame by frame (``N x C x H x W``, or clips ``N x T x C x H x W``)."""
        translate, _ = self._generators(translation.source)
        if images.dim() == 5:
            return translate(images.flatten(0, 1)).unflatten(0, images.shape[:2])
        return translate(images)

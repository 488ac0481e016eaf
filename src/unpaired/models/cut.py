"""CUT and FastCUT (Park et al., ECCV 2020): one-sided translation with a contrastive PatchNCE loss.

One generator ``G`` (A→B), one discriminator ``D_B`` and the PatchNCE projection heads ``F``.
Instead of a cycle, each output patch must be recognisable as coming from the input patch at the
same position (PatchNCE over several encoder layers of ``G``). CUT adds the same loss on
``(real_B, G(real_B))`` (identity NCE); FastCUT drops it, weighs NCE 10x and adds a
flip-equivariance augmentation. Both are this class with different settings (conf/model/cut.yaml,
conf/model/fastcut.yaml).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import chain
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor
from torch.nn import Parameter

from unpaired.errors import ConfigError
from unpaired.losses import AdversarialLoss, PatchNCELoss, gradient_penalty
from unpaired.models.base import DIRECTIONS, Batch, GANModule, LossTerms, Outputs
from unpaired.nn import PatchSampleMLP, init_weights
from unpaired.nn.features import feature_channels, feature_layers, sequential_features


class CUT(GANModule):
    """CUT / FastCUT with the authors' losses, weights and update order.

    Per iteration, as in the authors' ``optimize_parameters``: one forward of ``G``, on
    ``cat(real_A, real_B)`` when identity NCE is on (``fake_B`` and ``idt_B`` are the two halves),
    with the whole input flipped horizontally with probability 1/2 under flip-equivariance; a
    discriminator update (``0.5 * (real + fake)``, no image pool); then a generator update with
    ``lambda_GAN * GAN + NCE`` where ``NCE`` is ``0.5 * (NCE(real_A, fake_B) + NCE(real_B,
    idt_B))`` with identity NCE and ``NCE(real_A, fake_B)`` without.

    ``NCE(src, tgt)`` is, averaged over ``nce_layers``, ``lambda_NCE`` times the mean PatchNCE
    loss between the projected features of ``G``'s layers on ``tgt`` (queries) and on ``src``
    (keys) at ``num_patches`` positions sampled per layer (the same positions for both).

    The projection heads ``F`` are built here, eagerly, from the channel counts of the chosen
    layers (found by one dry run of ``G``), and initialised like the networks. They are trained
    by the generator optimiser together with ``G``: the authors give ``F`` its own Adam with the
    same settings (learning rate, betas, schedule) and step it right after ``G``'s, on gradients
    of the same loss. Adam updates each parameter from its own gradient history only, so one
    Adam over ``G`` and ``F`` performs exactly the same updates as two with equal settings.

    Args:
        generator, discriminator: Hydra nodes (``_target_`` + arguments). The generator's layers
            must be an ``nn.Sequential`` named ``model`` (the ResNet generator).
        gan_mode: ``lsgan`` | ``vanilla`` | ``hinge`` | ``wgangp``.
        lambda_GAN: weight of the adversarial loss.
        lambda_NCE: weight of the PatchNCE loss (CUT 1, FastCUT 10); 0 turns it off.
        nce_idt: identity NCE on ``(real_B, G(real_B))`` (CUT on, FastCUT off).
        nce_layers: indices into the generator's ``model`` whose outputs are compared.
        num_patches: positions sampled per layer and image.
        netF_nc: width of the projection heads.
        nce_T: PatchNCE temperature.
        negatives_from_minibatch: negatives from every image of the batch (single-image mode);
            False takes them from the same image only, as CUT and FastCUT do.
        flip_equivariance: FastCUT's augmentation (see above).
        lambda_gp: gradient-penalty weight, used with ``wgangp`` only.
        init_type, init_gain: initialisation of ``G``, ``D`` and ``F``.
        feature_probe_size: side of the zero image of the dry run that finds the channel counts.
        gradient_options: ``grad_clip_val``, ``grad_clip_algorithm``,
            ``accumulate_grad_batches``: see :class:`GANModule`.
    """

    discriminator_first = True
    directions = ("AtoB",)

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        optimizer: Mapping[str, Any],
        scheduler: Mapping[str, Any] | None = None,
        scheduler_interval: str = "epoch",
        gan_mode: str = "lsgan",
        lambda_GAN: float = 1.0,
        lambda_NCE: float = 1.0,
        nce_idt: bool = True,
        nce_layers: Sequence[int] = (0, 4, 8, 12, 16),
        num_patches: int = 256,
        netF_nc: int = 256,
        nce_T: float = 0.07,
        negatives_from_minibatch: bool = False,
        flip_equivariance: bool = False,
        lambda_gp: float = 10.0,
        init_type: str = "xavier",
        init_gain: float = 0.02,
        feature_probe_size: int = 64,
        **gradient_options: Any,
    ) -> None:
        super().__init__(optimizer, scheduler, scheduler_interval, **gradient_options)
        self.save_hyperparameters()
        if num_patches < 1:
            raise ConfigError(f"model.num_patches={num_patches}; set it to at least 1.")
        self.G = init_weights(instantiate(generator), init_type, init_gain)
        self.D_B = init_weights(instantiate(discriminator), init_type, init_gain)
        self.nce_layers = list(nce_layers)
        input_nc = int(generator.get("input_nc", 3))
        channels = feature_channels(self.G, self.nce_layers, input_nc, feature_probe_size)
        self.F = init_weights(PatchSampleMLP(channels, nc=netF_nc), init_type, init_gain)
        self.adversarial = AdversarialLoss(gan_mode)
        self.patch_nce = PatchNCELoss(nce_T, negatives_from_minibatch)

    # ---------------------------------------------------------------------------- parameters
    def generator_parameters(self) -> Iterator[Parameter]:
        return chain(self.G.parameters(), self.F.parameters())

    def discriminator_parameters(self) -> Iterator[Parameter]:
        return self.D_B.parameters()

    # ------------------------------------------------------------------------------- forward
    def generate(self, batch: Batch) -> Outputs:
        real_A = batch["A"]
        real = torch.cat([real_A, batch["B"]]) if self.hparams.nce_idt else real_A
        flipped = self.training and self.hparams.flip_equivariance and bool(torch.rand(()) < 0.5)
        if flipped:
            real = torch.flip(real, [3])
        fake = self.G(real)
        n = real_A.shape[0]
        outputs = {"fake_B": fake[:n], "flipped": torch.tensor(flipped, device=fake.device)}
        if self.hparams.nce_idt:
            outputs["idt_B"] = fake[n:]
        return outputs

    def translate(self, images: Tensor, direction: str = "AtoB") -> Tensor:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        if direction != "AtoB":
            raise ConfigError(
                f"{type(self).__name__} is one-directional: it has a generator A→B only and "
                "cannot translate BtoA. Train another model with the domains swapped for B→A."
            )
        return self.G(images)

    # -------------------------------------------------------------------------------- losses
    def nce_loss(self, src: Tensor, tgt: Tensor, flipped: bool = False) -> Tensor:
        """``lambda_NCE`` x PatchNCE between ``G``'s features of ``tgt`` (queries) and of ``src``
        (keys), averaged over the layers. ``flipped``: ``tgt`` came from a flipped input, so its
        features are flipped back before they are compared position by position."""
        hp = self.hparams
        layers = feature_layers(self.G)
        feat_q = sequential_features(layers, tgt, self.nce_layers)
        if flipped:
            feat_q = [torch.flip(f, [3]) for f in feat_q]
        # The keys are detached inside the loss: no gradient reaches G or F through them, so
        # computing them without a graph gives the same loss and gradients for less memory.
        with torch.no_grad():
            feat_k = sequential_features(layers, src, self.nce_layers)
            keys, patch_ids = self.F(feat_k, hp.num_patches)
        queries, _ = self.F(feat_q, hp.num_patches, patch_ids)
        batch_size = src.shape[0]  # this device's share of the batch
        total = sum(
            self.patch_nce(q, k, batch_size).mean() * hp.lambda_NCE
            for q, k in zip(queries, keys, strict=True)
        )
        return total / len(self.nce_layers)

    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        hp = self.hparams
        fake_B = outputs["fake_B"]
        terms: LossTerms = {}
        if hp.lambda_GAN > 0:
            terms["G_adv_AB"] = self.adversarial.generator(self.D_B(fake_B)) * hp.lambda_GAN
        if hp.lambda_NCE > 0:
            flipped = bool(outputs["flipped"])
            terms["NCE"] = self.nce_loss(batch["A"], fake_B, flipped)
            if hp.nce_idt:
                terms["NCE_idt"] = self.nce_loss(batch["B"], outputs["idt_B"], flipped)
        nce = terms.get("NCE", fake_B.new_zeros(()))
        if "NCE_idt" in terms:
            nce = 0.5 * (nce + terms["NCE_idt"])
        loss = terms.get("G_adv_AB", fake_B.new_zeros(())) + nce
        return loss, {"G": loss, **terms}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        real_B, fake_B = batch["B"], outputs["fake_B"].detach()
        terms = {
            "D_fake": self.adversarial.fake(self.D_B(fake_B)),
            "D_real": self.adversarial.real(self.D_B(real_B)),
        }
        loss = 0.5 * (terms["D_fake"] + terms["D_real"])
        if self.adversarial.mode == "wgangp":
            terms["D_gp"] = gradient_penalty(self.D_B, real_B, fake_B, self.hparams.lambda_gp)
            loss = loss + terms["D_gp"]
        return loss, {"D": loss, **terms}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        fake_B = outputs["fake_B"]
        if bool(outputs["flipped"]):  # shown in the orientation of real_A
            fake_B = torch.flip(fake_B, [3])
        visuals = {"real_A": batch["A"], "fake_B": fake_B, "real_B": batch["B"]}
        if "idt_B" in outputs:
            idt_B = outputs["idt_B"]
            visuals["idt_B"] = torch.flip(idt_B, [3]) if bool(outputs["flipped"]) else idt_B
        return visuals

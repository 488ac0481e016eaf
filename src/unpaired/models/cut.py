"""CUT and FastCUT (Park et al., ECCV 2020): one-sided translation with a contrastive PatchNCE loss.

One generator ``G`` (A→B), one discriminator ``D_B`` and the PatchNCE projection heads ``F``.
Instead of a cycle, each output patch must be recognisable as coming from the input patch at the
same position (PatchNCE over several encoder layers of ``G``). CUT adds the same loss on
``(real_B, G(real_B))`` (identity NCE); FastCUT drops it, weighs NCE 10x and adds a
flip-equivariance augmentation. Both are this class with different settings (conf/model/cut.yaml,
conf/model/fastcut.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.losses import PatchNCELoss
from unpaired.models.base import Batch, LossTerms
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs
from unpaired.nn import PatchSampleMLP
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
        generator, discriminator: Hydra nodes (``_target_`` + arguments) or modules. The
            generator's layers must be an ``nn.Sequential`` named ``model`` (the ResNet
            generator).
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
        feature_probe_size: side of the zero image of the dry run that finds the channel counts.
        common: ``gan_mode``, ``lambda_gp`` (:class:`~unpaired.models.gan.GANModule`) and the
            optimiser, schedule, initialisation (of ``G``, ``D`` and ``F``; the authors':
            ``xavier``, gain 0.02) and gradient options of
            :class:`~unpaired.models.base.GenerativeModule`.
    """

    generator_networks = ("G", "F")
    discriminator_networks = ("D_B",)

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        lambda_GAN: float = 1.0,
        lambda_NCE: float = 1.0,
        nce_idt: bool = True,
        nce_layers: Sequence[int] = (0, 4, 8, 12, 16),
        num_patches: int = 256,
        netF_nc: int = 256,
        nce_T: float = 0.07,
        negatives_from_minibatch: bool = False,
        flip_equivariance: bool = False,
        feature_probe_size: int = 64,
        **common: Any,
    ) -> None:
        super().__init__(**{"init_type": "xavier", **common})
        self.save_hyperparameters()
        if num_patches < 1:
            raise ConfigError(f"model.num_patches={num_patches}; set it to at least 1.")
        self.G = self.network(generator)
        self.D_B = self.network(discriminator)
        self.nce_layers = list(nce_layers)
        input_nc = _input_channels(self.G)
        channels = feature_channels(self.G, self.nce_layers, input_nc, feature_probe_size)
        self.F = self.network(PatchSampleMLP(channels, nc=netF_nc))
        self.patch_nce = PatchNCELoss(nce_T, negatives_from_minibatch)
        self.flipped = False  # whether this batch's forward pass ran on flipped images

    @property
    def translations(self) -> tuple[Translation, ...]:
        a, b = self.domains
        return (Translation(a, b),)

    # ------------------------------------------------------------------------------- forward
    def generate(self, batch: Batch) -> Outputs:
        a, b = self.domains
        real_a = batch[a]
        real = torch.cat([real_a, batch[b]]) if self.hparams.nce_idt else real_a
        # decided on the host, where the losses and visuals read it (no device sync)
        self.flipped = self.training and self.hparams.flip_equivariance and random_flip()
        if self.flipped:
            real = torch.flip(real, [3])
        fake = self.G(real)
        n = real_a.shape[0]
        outputs = {f"fake_{b}": fake[:n]}
        if self.hparams.nce_idt:
            outputs[f"idt_{b}"] = fake[n:]
        return outputs

    def translate_as(self, images: Tensor, translation: Translation) -> Tensor:
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
        a, b = self.domains
        fake_b = outputs[f"fake_{b}"]
        adversarial_name = f"G_adv_{self.translations[0].suffix}"
        terms: LossTerms = {}
        if hp.lambda_GAN > 0:
            terms[adversarial_name] = self.adversarial.generator(self.D_B(fake_b)) * hp.lambda_GAN
        if hp.lambda_NCE > 0:
            terms["NCE"] = self.nce_loss(batch[a], fake_b, self.flipped)
            if hp.nce_idt:
                terms["NCE_idt"] = self.nce_loss(batch[b], outputs[f"idt_{b}"], self.flipped)
        nce = terms.get("NCE", fake_b.new_zeros(()))
        if "NCE_idt" in terms:
            nce = 0.5 * (nce + terms["NCE_idt"])
        loss = terms.get(adversarial_name, fake_b.new_zeros(())) + nce
        return loss, {"G": loss, **terms}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        _, b = self.domains
        real, fake, penalty = self.discriminator_terms(self.D_B, batch[b], outputs[f"fake_{b}"])
        terms = {"D_fake": fake, "D_real": real}
        loss = 0.5 * (fake + real)
        if penalty is not None:
            terms["D_gp"] = penalty
            loss = loss + penalty
        return loss, {"D": loss, **terms}

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        a, b = self.domains

        def unflipped(images: Tensor) -> Tensor:  # shown in the orientation of the inputs
            return torch.flip(images, [3]) if self.flipped else images

        visuals = {f"real_{a}": batch[a], f"fake_{b}": unflipped(outputs[f"fake_{b}"])}
        visuals[f"real_{b}"] = batch[b]
        if f"idt_{b}" in outputs:
            visuals[f"idt_{b}"] = unflipped(outputs[f"idt_{b}"])
        return visuals


def random_flip() -> bool:
    """Heads or tails from NumPy's global RNG, as the authors draw it (``np.random``): on the
    host, so that deciding costs no read of a tensor (seeded and restored like torch's)."""
    return bool(np.random.random() < 0.5)


def _input_channels(net: nn.Module) -> int:
    """The channels ``net`` takes: those of its first convolution."""
    return next(m for m in net.modules() if isinstance(m, nn.Conv2d)).in_channels

"""What UNIT and MUNIT share: one auto-encoder and one multi-scale discriminator per domain,
trained as in the authors' trainers.

The authors' training loop, per iteration: a discriminator update, then a generator update, each
with Adam (weight decay included) and a step learning-rate policy advanced once per iteration,
for ``max_iter`` iterations. Generators start from Kaiming-normal weights and discriminators
from N(0, 0.02). A discriminator's loss is ``gan_w * (real + fake)`` summed over its scales.

Their domain-invariant perceptual loss (``vgg_w``, ``compute_vgg_loss``) compares each translation
with its input through VGG-16's ``relu5_3`` features, instance-normalised. The authors' VGG-16 is
the Caffe model converted from Lua Torch (BGR input in [0, 255] less the Caffe means); here it is
torchvision's ImageNet VGG-16 with its own input normalisation
(:class:`~unpaired.nn.vgg.VGGFeatures`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.losses.style import instance_normalized_perceptual_loss
from unpaired.models.base import Batch, LossTerms
from unpaired.models.gan import GANModule
from unpaired.models.outputs import Outputs
from unpaired.nn.vgg import VGGFeatures

#: The VGG-16 layer of the authors' perceptual loss (their ``Vgg16.forward`` returns it).
PERCEPTUAL_LAYER = "relu5_3"


class AutoEncoderGAN(GANModule):
    """Auto-encoders ``gen_A``, ``gen_B`` (``gen_A`` encodes domain A and decodes into it) and
    discriminators ``D_A`` (judges domain A), ``D_B``, built from Hydra nodes (or modules).

    One forward (``generate``) per batch serves both updates: the discriminator step sees its
    outputs detached, then the generator step backpropagates through them. The authors instead
    re-run the encoders and decoders for each update, with fresh noise or style codes: the two
    updates here share one draw, and each iteration costs one forward pass fewer.

    Args:
        generator, discriminator: Hydra nodes or modules; each is built twice (once per domain).
        gan_w: weight of every adversarial term, for generators and discriminators alike.
        vgg_w: weight of the domain-invariant perceptual loss (see the module docstring); 0 (the
            authors' configs but two) builds no VGG.
        vgg_weights: torchvision's ``vgg16-397923af.pth`` for ``vgg_w > 0`` (None: torch hub's
            cache; never downloaded; ``"random"`` for tests).
        init_type_G, init_type_D: initialisation of the auto-encoders and of the discriminators
            (see :func:`unpaired.nn.init_weights`; the gain is the model's ``init_gain``).
        common: ``gan_mode`` (one of :attr:`gan_modes`; the authors use ``lsgan``) and the
            optimiser, schedule (``max_iterations``: the authors' ``max_iter``) and gradient
            options of :class:`~unpaired.models.base.GenerativeModule`.
    """

    #: The authors' trainers' GAN losses (their ``nsgan`` is our ``vanilla``); WGAN would need a
    #: gradient penalty that their trainers do not have.
    gan_modes = ("lsgan", "vanilla", "hinge")
    generator_networks = ("gen_A", "gen_B")
    discriminator_networks = ("D_A", "D_B")
    pretrained_weight_files = ("vgg_weights",)  # the VGG's weights are in the checkpoint
    #: The auto-encoder class a method needs (checked, so a wrong ``model/generator`` fails early).
    generator_type: type[nn.Module]

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        gan_w: float = 1.0,
        vgg_w: float = 0.0,
        vgg_weights: str | None = None,
        init_type_G: str = "kaiming",
        init_type_D: str = "normal",
        **common: Any,
    ) -> None:
        super().__init__(**{"scheduler_interval": "step", **common})
        if vgg_w < 0:
            raise ConfigError(f"model.vgg_w must be >= 0 (0: no perceptual loss), got {vgg_w}")
        self.gan_w = gan_w
        self.vgg_w = vgg_w
        #: frozen loss network of the perceptual loss; None when ``vgg_w`` is 0
        self.vgg = VGGFeatures("vgg16", [PERCEPTUAL_LAYER], vgg_weights) if vgg_w > 0 else None
        self.gen_A = self._build_generator(generator, init_type_G)
        self.gen_B = self._build_generator(generator, init_type_G)
        self.D_A = self.network(discriminator, init_type_D)
        self.D_B = self.network(discriminator, init_type_D)

    def _build_generator(self, node: Mapping[str, Any], init_type: str) -> nn.Module:
        generator = self.network(node, init_type)
        if not isinstance(generator, self.generator_type):
            raise ConfigError(
                f"{type(self).__name__} needs model.generator of type "
                f"{self.generator_type.__name__}, got {type(generator).__name__}; keep the "
                "model's own model/generator choice."
            )
        return generator

    # ------------------------------------------------------------------ GenerativeModule

    @property
    def autoencoders(self) -> dict[str, nn.Module]:
        """Each domain's auto-encoder, by domain name."""
        a, b = self.domains
        return {a: self.gen_A, b: self.gen_B}

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        a, b = self.domains
        terms = {
            f"D_{a}": self._discriminator_term(self.D_A, batch[a], outputs[f"fake_{a}"]),
            f"D_{b}": self._discriminator_term(self.D_B, batch[b], outputs[f"fake_{b}"]),
        }
        loss = terms[f"D_{a}"] + terms[f"D_{b}"]
        return loss, {"D": loss, **terms}

    def _discriminator_term(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        real_term, fake_term, _ = self.discriminator_terms(discriminator, real, fake)
        return self.gan_w * (real_term + fake_term)

    def adversarial_terms(self, outputs: Outputs) -> LossTerms:
        """Generator terms: ``G_adv_AB`` (``D_B`` on ``fake_B``) and ``G_adv_BA``."""
        a, b = self.domains
        forward, back = self.translations
        adversarial = self.adversarial.generator
        return {
            f"G_adv_{forward.suffix}": self.gan_w * adversarial(self.D_B(outputs[f"fake_{b}"])),
            f"G_adv_{back.suffix}": self.gan_w * adversarial(self.D_A(outputs[f"fake_{a}"])),
        }

    def perceptual_terms(self, batch: Batch, outputs: Outputs) -> LossTerms:
        """``vgg_<target>``: ``vgg_w`` x the perceptual loss of the translation into ``target``
        against its input (the authors' ``loss_gen_vgg_a`` compares ``x_ba`` with ``x_b``); none
        when ``vgg_w`` is 0."""
        if self.vgg is None:
            return {}
        a, b = self.domains
        terms = {}
        for source, target in ((b, a), (a, b)):
            fake = self.vgg((outputs[f"fake_{target}"] + 1) / 2)[PERCEPTUAL_LAYER]
            real = self.vgg((batch[source] + 1) / 2)[PERCEPTUAL_LAYER]
            terms[f"vgg_{target}"] = self.vgg_w * instance_normalized_perceptual_loss(fake, real)
        return terms

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        """Each domain's image, its reconstruction from its own code, and its translation."""
        a, b = self.domains
        return {
            f"real_{a}": batch[a],
            f"recon_{a}": outputs[f"recon_{a}"],
            f"fake_{b}": outputs[f"fake_{b}"],
            f"real_{b}": batch[b],
            f"recon_{b}": outputs[f"recon_{b}"],
            f"fake_{a}": outputs[f"fake_{a}"],
        }

    def source_and_target(self, translation: Translation) -> tuple[nn.Module, nn.Module]:
        """The auto-encoders to encode with and to decode with for ``translation``."""
        return self.autoencoders[translation.source], self.autoencoders[translation.target]

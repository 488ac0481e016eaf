"""What UNIT and MUNIT share: one auto-encoder and one multi-scale discriminator per domain,
trained as in the authors' trainers.

The authors' training loop, per iteration: a discriminator update, then a generator update, each
with Adam (weight decay included) and a step learning-rate policy advanced once per iteration,
for ``max_iter`` iterations. Generators start from Kaiming-normal weights and discriminators
from N(0, 0.02). A discriminator's loss is ``gan_w * (real + fake)`` summed over its scales.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hydra.utils import instantiate
from torch import Tensor, nn
from torch.nn import Parameter

from unpaired.errors import ConfigError
from unpaired.losses import AdversarialLoss
from unpaired.models.base import DIRECTIONS, Batch, GANModule, LossTerms, Outputs
from unpaired.nn import init_weights

#: GAN losses the authors' trainers can use (their ``nsgan`` is our ``vanilla``); WGAN would
#: need a gradient penalty that their trainers do not have.
AUTOENCODER_GAN_MODES = ("lsgan", "vanilla", "hinge")


class AutoEncoderGAN(GANModule):
    """Auto-encoders ``gen_A``, ``gen_B`` (``gen_A`` encodes domain A and decodes into it) and
    discriminators ``D_A`` (judges domain A), ``D_B``, built from Hydra nodes.

    One forward (``generate``) per batch serves both updates: the discriminator step sees its
    outputs detached, then the generator step backpropagates through them. The authors instead
    re-run the encoders and decoders for each update, with fresh noise or style codes: the two
    updates here share one draw, and each iteration costs one forward pass fewer.

    Args:
        generator, discriminator: Hydra nodes; each is built twice (once per domain).
        max_iterations: the run stops after this many training batches (the authors'
            ``max_iter``); None leaves the length to the trainer.
        gan_mode: one of :data:`AUTOENCODER_GAN_MODES`; the authors use ``lsgan``.
        gan_w: weight of every adversarial term, for generators and discriminators alike.
        init_type_G, init_type_D, init_gain: initialisation of the auto-encoders and of the
            discriminators (see :func:`unpaired.nn.init_weights`).
        gradient_options: ``grad_clip_val``, ``grad_clip_algorithm``,
            ``accumulate_grad_batches``: see :class:`GANModule`.
    """

    discriminator_first = True
    #: The auto-encoder class a method needs (checked, so a wrong ``model/generator`` fails early).
    generator_type: type[nn.Module]

    def __init__(
        self,
        generator: Mapping[str, Any],
        discriminator: Mapping[str, Any],
        optimizer: Mapping[str, Any],
        scheduler: Mapping[str, Any] | None,
        scheduler_interval: str,
        max_iterations: int | None,
        gan_mode: str,
        gan_w: float,
        init_type_G: str,
        init_type_D: str,
        init_gain: float,
        **gradient_options: Any,
    ) -> None:
        super().__init__(optimizer, scheduler, scheduler_interval, **gradient_options)
        if gan_mode not in AUTOENCODER_GAN_MODES:
            raise ConfigError(
                f"model.gan_mode={gan_mode!r} is not available for {type(self).__name__}; use one "
                f"of {', '.join(AUTOENCODER_GAN_MODES)} (the authors use lsgan)."
            )
        if max_iterations is not None and max_iterations < 1:
            raise ConfigError(
                f"model.max_iterations={max_iterations} must be a positive number of training "
                "batches, or null to let the trainer decide the run's length."
            )
        self.max_iterations = max_iterations
        self.gan_w = gan_w
        self.gen_A = self._build_generator(generator, init_type_G, init_gain)
        self.gen_B = self._build_generator(generator, init_type_G, init_gain)
        self.D_A = init_weights(instantiate(discriminator), init_type_D, init_gain)
        self.D_B = init_weights(instantiate(discriminator), init_type_D, init_gain)
        self.adversarial = AdversarialLoss(gan_mode)

    def _build_generator(self, node: Mapping[str, Any], init_type: str, gain: float) -> nn.Module:
        generator = instantiate(node)
        if not isinstance(generator, self.generator_type):
            raise ConfigError(
                f"{type(self).__name__} needs model.generator of type "
                f"{self.generator_type.__name__}, got {type(generator).__name__}; keep the "
                "model's own model/generator choice."
            )
        return init_weights(generator, init_type, gain)

    # ------------------------------------------------------------------ GANModule interface
    def generator_parameters(self) -> Iterator[Parameter]:
        # through one container, so that layers the two domains share are listed once
        return nn.ModuleList([self.gen_A, self.gen_B]).parameters()

    def discriminator_parameters(self) -> Iterator[Parameter]:
        return nn.ModuleList([self.D_A, self.D_B]).parameters()

    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        terms = {
            "D_A": self._discriminator_term(self.D_A, batch["A"], outputs["fake_A"]),
            "D_B": self._discriminator_term(self.D_B, batch["B"], outputs["fake_B"]),
        }
        loss = terms["D_A"] + terms["D_B"]
        return loss, {"D": loss, **terms}

    def _discriminator_term(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        real_term = self.adversarial.real(discriminator(real))
        fake_term = self.adversarial.fake(discriminator(fake.detach()))
        return self.gan_w * (real_term + fake_term)

    def adversarial_terms(self, outputs: Outputs) -> LossTerms:
        """Generator terms: ``G_adv_AB`` (``D_B`` on ``fake_B``) and ``G_adv_BA``."""
        return {
            "G_adv_AB": self.gan_w * self.adversarial.generator(self.D_B(outputs["fake_B"])),
            "G_adv_BA": self.gan_w * self.adversarial.generator(self.D_A(outputs["fake_A"])),
        }

    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        """Each domain's image, its reconstruction from its own code, and its translation."""
        return {
            "real_A": batch["A"],
            "recon_A": outputs["recon_A"],
            "fake_B": outputs["fake_B"],
            "real_B": batch["B"],
            "recon_B": outputs["recon_B"],
            "fake_A": outputs["fake_A"],
        }

    def source_and_target(self, direction: str) -> tuple[nn.Module, nn.Module]:
        """The auto-encoders to encode with and to decode with for ``direction``."""
        if direction not in DIRECTIONS:
            raise ConfigError(
                f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}."
            )
        return (self.gen_A, self.gen_B) if direction == "AtoB" else (self.gen_B, self.gen_A)

    # --------------------------------------------------------------------- run length
    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        batches_done = self.trainer.fit_loop.total_batch_idx + 1
        if self.max_iterations is not None and batches_done >= self.max_iterations:
            self.trainer.should_stop = True

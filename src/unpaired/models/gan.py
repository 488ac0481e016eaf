"""What every adversarial method shares: a GAN loss, and its discriminator terms."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any

from torch import Tensor, nn
from torch.nn import Parameter

from unpaired.errors import ConfigError
from unpaired.losses import GAN_MODES, AdversarialLoss, gradient_penalty
from unpaired.models.base import (
    Batch,
    GenerativeModule,
    LossTerms,
    OptimizerGroup,
    TrainingStep,
)
from unpaired.models.outputs import Outputs


class GANModule(GenerativeModule):
    """A method with discriminators.

    Args:
        gan_mode: the GAN loss, one of :attr:`gan_modes` (``lsgan``, ``vanilla``, ``hinge``,
            ``wgangp``).
        lambda_gp: the gradient-penalty weight, used with ``wgangp`` only.
        common: the arguments of :class:`~unpaired.models.base.GenerativeModule`.
    """

    #: The GAN losses the method offers.
    gan_modes: tuple[str, ...] = GAN_MODES
    #: Child modules holding the discriminators.
    discriminator_networks: tuple[str, ...] = ()
    #: Evaluate a discriminator on the fakes before the real images (the CUT and pix2pix
    #: authors' order; CycleGAN's is the other). Only batch norm's running statistics, which
    #: two updates change in order, can tell the difference.
    fakes_first: bool = True
    #: The updates of a batch, by optimiser group: the discriminators' first by default (CUT,
    #: pix2pix, UNIT, MUNIT, DCGAN); CycleGAN's authors update the generators first.
    update_order: tuple[str, ...] = ("D", "G")
    #: History pools of fakes (:class:`~unpaired.utils.image_pool.ImagePool`) saved beside the
    #: state dict, as checkpoint key -> attribute (CycleGAN's ``{"A": "pool_A", "B": "pool_B"}``).
    history_pools: Mapping[str, str] = {}

    def __init__(self, gan_mode: str = "lsgan", lambda_gp: float = 10.0, **common: Any) -> None:
        super().__init__(**common)
        if gan_mode not in self.gan_modes:
            raise ConfigError(
                f"model.gan_mode={gan_mode!r} is not available for {type(self).__name__}; use "
                f"one of {', '.join(self.gan_modes)}."
            )
        self.adversarial = AdversarialLoss(gan_mode)
        self.lambda_gp = lambda_gp

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        if self.history_pools:
            checkpoint["image_pools"] = {
                key: getattr(self, name).pool_state() for key, name in self.history_pools.items()
            }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get("image_pools", {})
        for key, name in self.history_pools.items():
            if key in saved:
                getattr(self, name).load_pool_state(saved[key])

    def optimizer_groups(self) -> tuple[OptimizerGroup, ...]:
        """One optimiser for the generator networks (``G``), one for the discriminators
        (``D``), with the model's optimiser settings."""
        return (
            OptimizerGroup("G", self.generator_networks),
            OptimizerGroup("D", self.discriminator_networks),
        )

    def training_steps(self) -> tuple[TrainingStep, ...]:
        """:meth:`discriminator_loss` with ``D`` and :meth:`generator_loss` with ``G``, in
        :attr:`update_order`."""
        losses = {"G": self.generator_loss, "D": self.discriminator_loss}
        return tuple(TrainingStep((name,), losses[name]) for name in self.update_order)

    @abstractmethod
    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """The loss of the generator side and its named terms."""

    @abstractmethod
    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """The loss of the discriminators and its named terms (fakes detached)."""

    def discriminator_parameters(self) -> Iterator[Parameter]:
        """Parameters of the :attr:`discriminator_networks`."""
        return self.networks_of(self.discriminator_networks).parameters()

    def discriminator_terms(
        self, discriminator: nn.Module, real: Tensor, fake: Tensor
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """A discriminator's loss on ``real`` images, on ``fake`` ones (detached: no gradient
        reaches the generators), and its gradient penalty at their interpolates with
        ``wgangp`` (None with the other GAN losses)."""
        fake = fake.detach()
        if self.fakes_first:
            fake_term = self.adversarial.fake(discriminator(fake))
            real_term = self.adversarial.real(discriminator(real))
        else:
            real_term = self.adversarial.real(discriminator(real))
            fake_term = self.adversarial.fake(discriminator(fake))
        penalty = None
        if self.adversarial.mode == "wgangp":
            penalty = gradient_penalty(discriminator, real, fake, self.lambda_gp)
        return real_term, fake_term, penalty

"""The skeleton every method shares: generators and discriminators trained by two optimisers.

Lightning 2.x runs GANs under manual optimisation. This base owns that once: forward the
generators once per batch, then update the discriminators and the generators in the method's
order, each with the other side frozen (``toggle_optimizer``), and step the schedulers. A method
supplies only its networks and losses by implementing the abstract methods.

Lightning's own gradient clipping and accumulation (``Trainer(gradient_clip_val=...,
accumulate_grad_batches=...)``) exist for automatic optimisation only, so this base provides them
(``grad_clip_val``, ``grad_clip_algorithm``, ``accumulate_grad_batches``), correct under every
precision and under DDP.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.strategies import ParallelStrategy
from torch import Tensor
from torch.nn import Parameter
from torch.optim import Optimizer

from unpaired.errors import ConfigError
from unpaired.metrics.ground_truth import ground_truth_errors
from unpaired.utils.checkpoint import MODEL_TARGET_KEY

log = logging.getLogger(__name__)
Batch = Mapping[str, Any]
Outputs = dict[str, Tensor]
LossTerms = dict[str, Tensor]

DIRECTIONS = ("AtoB", "BtoA")


class GANModule(L.LightningModule, ABC):
    """Manual optimisation of a generator side (``G``) and a discriminator side (``D``).

    Args:
        optimizer: Hydra node of a partial optimiser (``_partial_: true``), built once for the
            generator parameters and once for the discriminator parameters.
        scheduler: Hydra node of a partial learning-rate scheduler taking the optimiser, or None.
        scheduler_interval: ``"epoch"`` or ``"step"``: when the schedulers advance (``"step"``:
            after every update, i.e. every ``accumulate_grad_batches`` batches).
        grad_clip_val: clip each side's gradients to this norm (or value) before its update;
            None turns clipping off.
        grad_clip_algorithm: ``"norm"`` (the total 2-norm of the side's gradients) or
            ``"value"`` (each element to [-grad_clip_val, grad_clip_val]).
        accumulate_grad_batches: update G and D once every this many batches, with the mean of
            their gradients: the update of a batch this many times larger.
    """

    #: Update D before G in each iteration (CUT, pix2pix); CycleGAN updates G first.
    discriminator_first: bool = False
    #: The directions :meth:`translate` serves; one-directional methods (CUT, pix2pix): AtoB.
    directions: tuple[str, ...] = DIRECTIONS

    def __init__(
        self,
        optimizer: Mapping[str, Any],
        scheduler: Mapping[str, Any] | None = None,
        scheduler_interval: str = "epoch",
        grad_clip_val: float | None = None,
        grad_clip_algorithm: str = "norm",
        accumulate_grad_batches: int = 1,
    ) -> None:
        super().__init__()
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"model.scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        _check_gradient_options(grad_clip_val, grad_clip_algorithm, accumulate_grad_batches)
        self.automatic_optimization = False
        self._optimizer_config = optimizer
        self._scheduler_config = scheduler
        self._scheduler_interval = scheduler_interval
        self.grad_clip_val = grad_clip_val
        self.grad_clip_algorithm = grad_clip_algorithm
        self.accumulate_grad_batches = accumulate_grad_batches
        # Skipped updates, counted on the device (reading them would wait for it): in all
        # (saved in checkpoints) and in a row (read by NonFiniteGuard between steps).
        self.register_buffer("nonfinite_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer(
            "consecutive_nonfinite_steps", torch.zeros((), dtype=torch.long), persistent=False
        )

    # ----------------------------------------------------------------- what a method supplies
    @abstractmethod
    def generator_parameters(self) -> Iterator[Parameter]:
        """Parameters of the generator optimiser: generators and anything trained with them."""

    @abstractmethod
    def discriminator_parameters(self) -> Iterator[Parameter]:
        """Parameters updated by the discriminator optimiser."""

    @abstractmethod
    def generate(self, batch: Batch) -> Outputs:
        """Run the generators once on a batch; the outputs feed both loss functions."""

    @abstractmethod
    def generator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """Total generator loss and its named terms (logged as ``train/<name>``)."""

    @abstractmethod
    def discriminator_loss(self, batch: Batch, outputs: Outputs) -> tuple[Tensor, LossTerms]:
        """Total discriminator loss and its named terms; fakes must be used detached."""

    @abstractmethod
    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        """Images to show side by side in a grid, in column order, values in [-1, 1]."""

    @abstractmethod
    def translate(self, images: Tensor, direction: str = "AtoB") -> Tensor:
        """Translate a batch of images in [-1, 1] in ``direction`` (``AtoB`` or ``BtoA``)."""

    # ------------------------------------------------------------------- Lightning plumbing
    @classmethod
    def target(cls) -> str:
        """The import path of this class, which :mod:`unpaired.inference.load` rebuilds a
        checkpoint's module from (with its ``hyper_parameters``)."""
        return f"{cls.__module__}.{cls.__qualname__}"

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[MODEL_TARGET_KEY] = self.target()

    def configure_optimizers(self) -> tuple[list[Optimizer], list[dict[str, Any]]]:
        # plain containers: Hydra would pass betas as an omegaconf ListConfig, which torch < 2.10
        # keeps in param_groups, and a checkpoint holding it is refused by the weights-only loader
        make_optimizer = instantiate(self._optimizer_config, _convert_="all")
        optimizers = [
            make_optimizer(self.generator_parameters()),
            make_optimizer(self.discriminator_parameters()),
        ]
        if self._scheduler_config is None:
            return optimizers, []
        make_scheduler = instantiate(self._scheduler_config)
        schedulers = [
            {"scheduler": make_scheduler(optimizer), "interval": self._scheduler_interval}
            for optimizer in optimizers
        ]
        return optimizers, schedulers

    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Any]:
        optimizer_g, optimizer_d = self.optimizers()
        outputs = self.generate(batch)
        g_step = ("G", optimizer_g, lambda: self.generator_loss(batch, outputs))
        d_step = ("D", optimizer_d, lambda: self.discriminator_loss(batch, outputs))
        order = (d_step, g_step) if self.discriminator_first else (g_step, d_step)
        batch_size = batch["A"].shape[0]
        for side, optimizer, compute_loss in order:
            self._optimization_step(side, optimizer, compute_loss, batch_size)
        self.log("train/nonfinite_steps", self.nonfinite_steps.float(), batch_size=batch_size)
        if self._scheduler_interval == "step" and self._ends_accumulation():
            self._step_schedulers()
        return {"visuals": self.visuals(batch, outputs)}

    def _optimization_step(
        self,
        side: str,
        optimizer: Optimizer,
        compute_loss: Callable[[], tuple[Tensor, LossTerms]],
        batch_size: int,
    ) -> None:
        """One update of one side (``G`` or ``D``); the parameters of the other optimiser are
        frozen meanwhile so that no gradient is computed for them. The update is skipped, leaving
        weights and optimiser state as they were, when the loss or a gradient is not finite."""
        self.toggle_optimizer(optimizer)
        loss, terms = compute_loss()
        self._backward_and_step(side, optimizer, loss)
        self.untoggle_optimizer(optimizer)
        self.log_dict(
            {f"train/{name}": value.detach() for name, value in terms.items()},
            batch_size=batch_size,
            sync_dist=True,
        )

    def _backward_and_step(self, side: str, optimizer: LightningOptimizer, loss: Tensor) -> None:
        """Add the gradient of ``loss`` to the side's accumulated gradients; on the last batch of
        an accumulation window, update the side, unless the update is not finite, and zero its
        gradients.

        The loss is divided by the window length, so a window's update is that of the mean
        gradient over its batches. Under DDP the backward of a batch that only accumulates runs
        in ``no_sync``: the gradients are all-reduced once per update, not once per batch.
        """
        updating = self._ends_accumulation()
        strategy = self.trainer.strategy
        accumulating_in_ddp = not updating and isinstance(strategy, ParallelStrategy)
        with strategy.block_backward_sync() if accumulating_in_ddp else nullcontext():
            self.manual_backward(loss / self.accumulate_grad_batches)
        if not updating:
            return
        skipped = ~self._finite_update(loss, optimizer)
        if _skips_on_device(optimizer.optimizer, self.trainer.precision_plugin):
            # The fused kernel leaves weights and state as they were when found_inf is 1 (the
            # protocol of torch's grad scaler): no host sync to decide whether to step.
            optimizer.optimizer.found_inf = skipped.float()
            optimizer.step()  # clips in on_before_optimizer_step
            del optimizer.optimizer.found_inf
        elif not skipped.item():
            optimizer.step()
        self.nonfinite_steps += skipped
        self.consecutive_nonfinite_steps.add_(skipped).mul_(skipped)
        optimizer.zero_grad(set_to_none=True)

    def _finite_update(self, loss: Tensor, optimizer: Optimizer) -> Tensor:
        """Whether the loss and the gradients of ``optimizer`` are finite, on every process: a
        boolean on the device, computed without waiting for it.

        Under 16-mixed only the loss is checked: the gradients are scaled, and the grad scaler
        checks them itself inside ``optimizer.step()``, skipping an overflowing update and
        lowering its scale. Skipping the step here would keep the scaler from lowering it, and
        every later update would overflow too. Under DDP the processes decide together (a loss
        is one process's, summed over all of them), so that they keep the same weights and
        grad scales.
        """
        precision = self.trainer.precision_plugin
        finite = _finite(loss, None if _scales_gradients(precision) else optimizer)
        nonfinite_anywhere = self.trainer.strategy.reduce((~finite).float(), reduce_op="sum")
        return nonfinite_anywhere == 0

    def _ends_accumulation(self) -> bool:
        """Whether the current training batch ends an accumulation window: it is the
        ``accumulate_grad_batches``-th of its window, or the epoch's last batch (as Lightning's
        automatic accumulation, so that an epoch ends on an update)."""
        batches_done = self.trainer.fit_loop.epoch_loop.batch_progress.current.ready
        return (
            batches_done % self.accumulate_grad_batches == 0
            or batches_done == self.trainer.num_training_batches
            or self.trainer.is_last_batch
        )

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        """Clip the gradients the optimiser is about to apply.

        Lightning calls this hook inside ``optimizer.step()``, after 16-mixed's grad scaler has
        unscaled the gradients and before it steps, so the threshold applies to the true
        gradients in every precision (clipping before ``optimizer.step()`` would clip the scaled
        ones).
        """
        if self.grad_clip_val is not None:
            self.clip_gradients(
                optimizer,
                gradient_clip_val=self.grad_clip_val,
                gradient_clip_algorithm=self.grad_clip_algorithm,
            )

    def on_train_epoch_end(self) -> None:
        if self._scheduler_interval == "epoch":
            self._step_schedulers()

    def _step_schedulers(self) -> None:
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return
        if not isinstance(schedulers, list):
            schedulers = [schedulers]
        for scheduler in schedulers:
            scheduler.step()
        optimizer_g, optimizer_d = self.optimizers()
        self.log_dict(
            {
                "lr/G": optimizer_g.param_groups[0]["lr"],
                "lr/D": optimizer_d.param_groups[0]["lr"],
            },
            sync_dist=True,
        )

    def validation_step(self, batch: Batch, batch_idx: int) -> dict[str, Any]:
        outputs = self.generate(batch)
        _, g_terms = self.generator_loss(batch, outputs)
        _, d_terms = self.discriminator_loss(batch, outputs)
        batch_size = batch["A"].shape[0]
        self.log_dict(
            {f"val/{name}": value for name, value in {**g_terms, **d_terms}.items()},
            batch_size=batch_size,
            sync_dist=True,
        )
        errors = ground_truth_errors(batch, outputs)
        if errors:
            self.log_dict(
                {f"val/gt_{name}": value.mean() for name, value in errors.items()},
                batch_size=batch_size,
                sync_dist=True,
            )
        return {"visuals": self.visuals(batch, outputs)}


def _finite(loss: Tensor, optimizer: Optimizer | None) -> Tensor:
    """Whether ``loss`` and every gradient of ``optimizer``'s parameters (if given) are finite:
    one fused norm over all gradients, a boolean on their device."""
    params = () if optimizer is None else (p for g in optimizer.param_groups for p in g["params"])
    grads = [p.grad for p in params if p.grad is not None]
    total = loss.detach().float()
    if grads:
        norms = torch._foreach_norm(grads)
        total = total + torch.stack([norm.float() for norm in norms]).sum()
    return torch.isfinite(total)


def _scales_gradients(precision: Precision) -> bool:
    """Whether a grad scaler (16-mixed) multiplies the gradients and checks them itself."""
    return isinstance(precision, MixedPrecision) and precision.scaler is not None


def _skips_on_device(optimizer: Optimizer, precision: Precision) -> bool:
    """Whether ``optimizer`` can skip an update by a flag on the device: torch's fused
    optimisers take a ``found_inf`` tensor (unless a grad scaler already passes its own)."""
    fused = bool(optimizer.defaults.get("fused"))
    return (
        fused
        and getattr(optimizer, "_step_supports_amp_scaling", False)
        and not (_scales_gradients(precision))
    )


GRADIENT_CLIP_ALGORITHMS = ("norm", "value")


def _check_gradient_options(
    grad_clip_val: float | None, grad_clip_algorithm: str, accumulate_grad_batches: int
) -> None:
    if grad_clip_val is not None and grad_clip_val <= 0:
        raise ConfigError(
            f"model.grad_clip_val={grad_clip_val}: set a positive threshold, or null to turn "
            "gradient clipping off."
        )
    if grad_clip_algorithm not in GRADIENT_CLIP_ALGORITHMS:
        raise ConfigError(
            f"model.grad_clip_algorithm={grad_clip_algorithm!r} is not an option; use 'norm' "
            "(clip the total 2-norm) or 'value' (clip every element)."
        )
    if not isinstance(accumulate_grad_batches, int) or accumulate_grad_batches < 1:
        raise ConfigError(
            f"model.accumulate_grad_batches={accumulate_grad_batches!r}: set a whole number "
            ">= 1 (1: update after every batch)."
        )

"""The core every method runs on: a method declares, the base runs.

A method (CycleGAN, CUT, a VAE, ...) declares

- its networks, as child modules built with :meth:`GenerativeModule.network` (from a Hydra node or
  a module, initialised as the model's ``init_type`` says);
- its optimiser groups (:class:`OptimizerGroup`): which networks each optimiser trains, and the
  settings in which it differs from the model's ``optimizer`` node (a mapping network at 1e-6
  beside a generator at 1e-4);
- the ordered steps of one batch (:class:`TrainingStep`): each a loss to minimise and the
  optimiser groups that take it, any number of them;
- its domains (named: ``A`` and ``B``, or ``cat``, ``dog``, ... as the data names them) and the
  translations it makes between them;
- optionally one shared forward pass per batch (:meth:`GenerativeModule.generate`) whose outputs
  every step's loss reads, the images shown in grids, and how it translates.

Batches hold each domain's images under its name (``batch["A"]``); the true translation of the
batch's images into domain ``X``, where the data knows it, under ``target_X``. A method's forward
pass puts its translation of the batch's images into domain ``X`` under ``fake_X``: validation
measures the one against the other (``val/gt_L1_AB``).

The base alone owns the mechanics every step shares. Under Lightning's manual optimisation it
makes only the step's networks trainable, computes the loss, backpropagates (scaled under
16-mixed, divided by the accumulation length, without DDP's all-reduce on batches that only
accumulate), clips after unscaling, steps the optimisers unless the update is not finite
(decided on the device, all processes alike), zeroes the gradients, logs the loss terms and
advances the schedulers. Validation computes every step's loss without a backward pass, under
its own random stream; loss terms that need gradients (gradient penalties) compute them
themselves (:mod:`unpaired.losses.adversarial`).

Lightning's own gradient clipping and accumulation (``Trainer(gradient_clip_val=...,
accumulate_grad_batches=...)``) exist for automatic optimisation only, so the base provides them
(``grad_clip_val``, ``grad_clip_algorithm``, ``accumulate_grad_batches``), correct under every
precision and under DDP.
"""

from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.strategies import ParallelStrategy
from lightning.pytorch.utilities.seed import isolate_rng
from torch import Tensor, nn
from torch.nn import Parameter
from torch.optim import Optimizer

from unpaired.domains import Translation, pairs, parse_translation
from unpaired.errors import ConfigError, UnpairedError
from unpaired.metrics.ground_truth import ground_truth_errors
from unpaired.models.ema import WeightAverage
from unpaired.models.outputs import Outputs
from unpaired.models.schedules import check_run_length
from unpaired.models.updates import (
    check_gradient_options,
    finite,
    scales_gradients,
    skips_on_device,
)
from unpaired.nn import init_weights
from unpaired.utils.checkpoint import MODEL_TARGET_KEY

log = logging.getLogger(__name__)
Batch = Mapping[str, Any]
LossTerms = dict[str, Tensor]
LossFunction = Callable[[Batch, Outputs], tuple[Tensor, LossTerms]]


@dataclass(frozen=True)
class OptimizerGroup:
    """One optimiser: the networks (child module names) it trains, and ``options`` that replace
    the model's ``optimizer`` node's arguments for it (e.g. ``{"lr": 1e-6}``)."""

    name: str
    networks: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingStep:
    """One update of a batch: minimise ``loss(batch, outputs)`` with the optimiser groups named
    in ``optimizers``; only their networks are trainable meanwhile. The loss returns the total
    and its named terms (logged as ``train/<name>``)."""

    optimizers: tuple[str, ...]
    loss: LossFunction


#: The weights a trained model is used with: the averaged ones when it has them, or the raw ones.
WEIGHTS = ("ema", "raw")


class _Method(ABCMeta):
    """Calls ``_after_init`` once a method's constructor (the outermost ``__init__``) is done:
    what the base builds from a method's networks needs them built first."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        module = super().__call__(*args, **kwargs)
        module._after_init()
        return module


class GenerativeModule(L.LightningModule, metaclass=_Method):
    """The base of every method (see the module docstring).

    Args (shared by every method; a method's constructor lists only its own):
        optimizer: Hydra node of a partial optimiser (``_partial_: true``), built once for each
            optimiser group (with the group's ``options`` on top).
        scheduler: Hydra node of a partial learning-rate scheduler taking the optimiser (one
            per optimiser), or None.
        scheduler_interval: ``"epoch"`` or ``"step"``: when the schedulers advance (``"step"``:
            after every update, i.e. every ``accumulate_grad_batches`` batches).
        init_type, init_gain: the weight initialisation of the networks built with
            :meth:`network` (``normal`` N(0, gain), ``xavier``, ``kaiming``, ``orthogonal``).
        max_iterations: the run stops after this many training batches (iteration-counted
            schedules, as UNIT's and MUNIT's authors count); None leaves it to the trainer.
        grad_clip_val: clip each update's gradients to this norm (or value); None: no clipping.
        grad_clip_algorithm: ``"norm"`` (the total 2-norm of the update's gradients) or
            ``"value"`` (each element to [-grad_clip_val, grad_clip_val]).
        accumulate_grad_batches: update once every this many batches, with the mean of their
            gradients: the update of a batch this many times larger.
        domains: the names of the domains, in the data's order (default
            :attr:`default_domains`); as many as :attr:`domain_count` where a method has a
            fixed number. The configs pass the data's (``model.domains: ${data.domains}``), and
            a fit checks that the data it is given has them.
        ema: exponential moving averages of the :attr:`ema_networks`, or None (off): a mapping
            of ``enabled`` (default true), :class:`~unpaired.models.ema.WeightAverage`'s options
            (``decay``, ``start_step``, ``buffers``) and ``evaluate`` (default true: validation,
            its image grids, the ground-truth report and the training-time FID use the
            averages; false: the raw weights). The averages are updated after every update,
            saved in checkpoints, and what ``unpaired-translate``, ``-evaluate`` and ``-export``
            use unless told ``weights=raw``.
    """

    #: Child modules holding the generating side (translation networks and what trains with
    #: them): their weights go into the ``.generators.safetensors`` files.
    generator_networks: tuple[str, ...] = ()
    #: Child modules that get averaged copies when ``ema`` is on (default: the generators).
    ema_networks: tuple[str, ...] | None = None
    #: The domain names when none are given (the authors' two-folder layout: A and B).
    default_domains: tuple[str, ...] = ("A", "B")
    #: How many domains the method works with (None: any number).
    domain_count: int | None = 2
    #: Constructor arguments naming a file of pretrained weights for a frozen network that the
    #: checkpoint holds as well (a VGG loss network or encoder): a saved model is rebuilt without
    #: that file (as ``"random"``), and its state dict then restores those weights, so
    #: translating, evaluating or exporting a trained model never needs the file.
    pretrained_weight_files: tuple[str, ...] = ()
    #: Child modules with such frozen pretrained weights that translating runs (AdaIN's VGG
    #: encoder): their weights go into the ``.generators.safetensors`` files as well, so that the
    #: model rebuilt from one (without the weights file) translates as the trained one.
    pretrained_networks: tuple[str, ...] = ()

    def __init__(
        self,
        optimizer: Mapping[str, Any],
        scheduler: Mapping[str, Any] | None = None,
        scheduler_interval: str = "epoch",
        init_type: str = "normal",
        init_gain: float = 0.02,
        max_iterations: int | None = None,
        grad_clip_val: float | None = None,
        grad_clip_algorithm: str = "norm",
        accumulate_grad_batches: int = 1,
        ema: Mapping[str, Any] | None = None,
        domains: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.domains = tuple(domains) if domains is not None else self.default_domains
        if self.domain_count is not None and len(self.domains) != self.domain_count:
            raise ConfigError(
                f"{type(self).__name__} works with {self.domain_count} domain(s), but "
                f"model.domains={list(self.domains)}: choose {self.domain_count} of the data's "
                "domains with data.domains=[...]."
            )
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"model.scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        if max_iterations is not None and max_iterations < 1:
            raise ConfigError(
                f"model.max_iterations={max_iterations} must be a positive number of training "
                "batches, or null to let the trainer decide the run's length."
            )
        check_gradient_options(grad_clip_val, grad_clip_algorithm, accumulate_grad_batches)
        self.automatic_optimization = False
        self._optimizer_config = optimizer
        self._scheduler_config = scheduler
        self._scheduler_interval = scheduler_interval
        self._init = (init_type, init_gain)
        self.max_iterations = max_iterations
        self.grad_clip_val = grad_clip_val
        self.grad_clip_algorithm = grad_clip_algorithm
        self.accumulate_grad_batches = accumulate_grad_batches
        ema = dict(ema or {"enabled": False})
        self._ema_options = ema if ema.pop("enabled", True) else None
        self.ema: WeightAverage | None = None
        # Skipped updates, counted on the device (reading them would wait for it): in all
        # (saved in checkpoints) and in a row (read by NonFiniteGuard between steps).
        self.register_buffer("nonfinite_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer(
            "consecutive_nonfinite_steps", torch.zeros((), dtype=torch.long), persistent=False
        )
        # The longest streak since NonFiniteGuard last looked, which it may do every few steps.
        self.register_buffer(
            "longest_nonfinite_streak", torch.zeros((), dtype=torch.long), persistent=False
        )

    # ----------------------------------------------------------------- what a method declares
    @abstractmethod
    def optimizer_groups(self) -> Sequence[OptimizerGroup]:
        """The optimisers, in the order their states are saved."""

    @abstractmethod
    def training_steps(self) -> Sequence[TrainingStep]:
        """The updates of one batch, in order."""

    def generate(self, batch: Batch) -> Mapping[str, Tensor]:
        """The forward pass whose outputs every step's loss reads (run once per batch)."""
        return {}

    @abstractmethod
    def visuals(self, batch: Batch, outputs: Outputs) -> dict[str, Tensor]:
        """Images to show side by side in a grid, in column order, values in [-1, 1]."""

    @property
    def translations(self) -> tuple[Translation, ...]:
        """The translations the method makes (default: between every two of its domains)."""
        return pairs(self.domains)

    # ------------------------------------------------------------------- translating
    def translation(self, direction: str | Translation | None = None) -> Translation:
        """The translation ``direction`` names (``AtoB``, ``cat_to_dog``, ...; None: the first
        the method makes).

        Raises:
            ConfigError: the method makes no such translation (the message lists its own).
        """
        if direction is None:
            if not self.translations:
                raise ConfigError(f"{type(self).__name__} makes no translations")
            return self.translations[0]
        return parse_translation(direction, self.translations)

    def translate(self, images: Tensor, direction: str | Translation | None = None) -> Tensor:
        """Translate a batch of images in [-1, 1] in ``direction`` (see :meth:`translation`):
        the method's ``translate_as(images, translation)``, which every method with
        :attr:`translations` defines, after the direction is checked here."""
        translation = self.translation(direction)  # first: a method may make none
        return self.translate_as(images, translation)

    # ------------------------------------------------------------------ building networks
    def _after_init(self) -> None:
        """Build the averaged copies of the method's networks (they exist only now)."""
        if self._ema_options is None:
            return
        options = dict(self._ema_options)
        self.evaluates_averages = bool(options.pop("evaluate", True))
        names = self.ema_networks if self.ema_networks is not None else self.generator_networks
        self.ema = WeightAverage({name: getattr(self, name) for name in names}, **options)

    @contextmanager
    def averaged_weights(self, use: bool | None = None) -> Iterator[None]:
        """Within the block the averaged networks stand in for the trained ones (by default
        when the model has averages and evaluates with them; ``use=False``: never)."""
        if use is None:
            use = self.ema is not None and self.evaluates_averages
        if not use or self.ema is None:
            yield
            return
        self._swap_averages()
        try:
            yield
        finally:
            self._swap_averages()

    def select_weights(self, weights: str) -> str:
        """For good (a model loaded to translate): ``"ema"`` puts the averaged networks in place
        of the trained ones when the model has them; ``"raw"`` keeps the trained ones. Returns
        the weights now in use (``"raw"`` when ``"ema"`` was asked of a model without)."""
        if weights not in WEIGHTS:
            raise ConfigError(f"weights={weights!r} is not an option; use ema or raw.")
        if weights == "raw" or self.ema is None:
            return "raw"
        self._swap_averages()
        self.ema = None  # the trained networks are not used any more
        return "ema"

    def _swap_averages(self) -> None:
        assert self.ema is not None
        for name in self.ema.names:
            averaged = self.ema.copies._modules[name]
            self.ema.copies._modules[name] = self._modules[name]
            self._modules[name] = averaged

    def network(
        self, node: Mapping[str, Any] | nn.Module, init_type: str | None = None
    ) -> nn.Module:
        """A network from a Hydra node (``_target_`` + arguments) or a module built in Python,
        initialised with ``init_type`` (default: the model's) and the model's gain."""
        if isinstance(node, nn.Module):
            net = node
        else:
            try:
                net = instantiate(node)
            except InstantiationException as error:  # our own one-line errors, unwrapped
                if isinstance(error.__cause__, UnpairedError):
                    raise error.__cause__ from None
                raise
        return init_weights(net, init_type or self._init[0], self._init[1])

    def networks_of(self, names: Sequence[str]) -> nn.ModuleList:
        """The child modules ``names`` in one container (a layer two of them share counts once
        in its ``parameters()``)."""
        missing = [name for name in names if not isinstance(getattr(self, name, None), nn.Module)]
        if missing:
            raise ConfigError(
                f"{type(self).__name__} names networks it does not have: {', '.join(missing)}"
            )
        return nn.ModuleList([getattr(self, name) for name in names])

    def generator_parameters(self) -> Iterator[Parameter]:
        """Parameters of the :attr:`generator_networks`."""
        return self.networks_of(self.generator_networks).parameters()

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
            make_optimizer(self.networks_of(group.networks).parameters(), **group.options)
            for group in self.optimizer_groups()
        ]
        if self._scheduler_config is None:
            return optimizers, []
        make_scheduler = instantiate(self._scheduler_config)
        schedulers = [
            {"scheduler": make_scheduler(optimizer), "interval": self._scheduler_interval}
            for optimizer in optimizers
        ]
        return optimizers, schedulers

    def _optimizers_by_name(self) -> dict[str, LightningOptimizer]:
        optimizers = self.optimizers()
        if not isinstance(optimizers, list):
            optimizers = [optimizers]
        names = [group.name for group in self.optimizer_groups()]
        return dict(zip(names, optimizers, strict=True))

    def setup(self, stage: str) -> None:
        """Check that the data has the model's domains (a mismatch fails here, not deep inside
        a loss)."""
        data_domains = getattr(self.trainer.datamodule, "domains", None)
        if data_domains is not None and tuple(data_domains) != self.domains:
            raise ConfigError(
                f"{type(self).__name__} was built for the domains {list(self.domains)}, but the "
                f"data has {list(data_domains)}: set data.domains to the model's (model.domains "
                "follows data.domains in the configs, unless it was set by hand)."
            )

    def on_fit_start(self) -> None:
        if self._scheduler_interval == "epoch":
            for config in self.trainer.lr_scheduler_configs:
                check_run_length(config.scheduler, self.trainer.max_epochs)

    # ------------------------------------------------------------------------- training
    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Any]:
        optimizers = self._optimizers_by_name()
        outputs = self._generate(batch)
        batch_size = _batch_size(batch)
        for step in self.training_steps():
            self._optimization_step(
                step, [optimizers[name] for name in step.optimizers], batch, outputs, batch_size
            )
        self.log("train/nonfinite_steps", self.nonfinite_steps.float(), batch_size=batch_size)
        if self._ends_accumulation():
            if self.ema is not None:
                networks = {name: getattr(self, name) for name in self.ema.names}
                self.ema.update(networks, self.trainer.fit_loop.total_batch_idx)
            if self._scheduler_interval == "step":
                self._step_schedulers()
        return {"visuals": self.visuals(batch, outputs)}

    def _generate(self, batch: Batch) -> Outputs:
        return Outputs(self.generate(batch), f"{type(self).__name__}.generate")

    def _optimization_step(
        self,
        step: TrainingStep,
        optimizers: list[LightningOptimizer],
        batch: Batch,
        outputs: Outputs,
        batch_size: int,
    ) -> None:
        """One update: only the parameters of ``optimizers`` are trainable meanwhile, so that no
        gradient is computed for the others. The update is skipped, leaving weights and
        optimiser state as they were, when the loss or a gradient is not finite."""
        with self._trainable_only(optimizers):
            loss, terms = step.loss(batch, outputs)
            self._backward_and_step(optimizers, loss)
        # The totals (named after their groups) in the progress bar. Per step, each process logs
        # its own values: an all-reduce per term and step would cost a dozen collectives per
        # batch under DDP (validation, logged per epoch, averages over the processes).
        for shown in (True, False):
            self.log_dict(
                {
                    f"train/{name}": value.detach()
                    for name, value in terms.items()
                    if (name in step.optimizers) == shown
                },
                batch_size=batch_size,
                prog_bar=shown,
            )

    @contextmanager
    def _trainable_only(self, optimizers: Sequence[LightningOptimizer]) -> Iterator[None]:
        """Within the block, only the parameters of ``optimizers`` require gradients (as
        Lightning's ``toggle_optimizer``, for any number of optimisers); the flags are restored
        afterwards."""
        trained = {
            id(p) for optimizer in optimizers for g in optimizer.param_groups for p in g["params"]
        }
        flags = [(p, p.requires_grad) for p in self.parameters()]
        for parameter, _ in flags:
            parameter.requires_grad_(id(parameter) in trained)
        try:
            yield
        finally:
            for parameter, flag in flags:
                parameter.requires_grad_(flag)

    def _backward_and_step(self, optimizers: Sequence[LightningOptimizer], loss: Tensor) -> None:
        """Add the gradient of ``loss`` to the accumulated gradients; on the last batch of an
        accumulation window, update with every optimiser, unless the update is not finite, and
        zero their gradients.

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
        skipped = ~self._finite_update(loss, optimizers)
        precision = self.trainer.precision_plugin
        decided_on_host = None
        for optimizer in optimizers:
            if skips_on_device(optimizer.optimizer, precision):
                # The fused kernel leaves weights and state as they were when found_inf is 1
                # (the protocol of torch's grad scaler): no host sync to decide whether to step.
                optimizer.optimizer.found_inf = skipped.float()
                optimizer.step()  # clips in on_before_optimizer_step
                del optimizer.optimizer.found_inf
            else:
                if decided_on_host is None:
                    decided_on_host = bool(skipped.item())
                if not decided_on_host:
                    optimizer.step()
        self.nonfinite_steps += skipped
        self.consecutive_nonfinite_steps.add_(skipped).mul_(skipped)
        torch.maximum(
            self.longest_nonfinite_streak,
            self.consecutive_nonfinite_steps,
            out=self.longest_nonfinite_streak,
        )
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)

    def _finite_update(self, loss: Tensor, optimizers: Sequence[LightningOptimizer]) -> Tensor:
        """Whether the loss and the gradients of ``optimizers`` are finite, on every process: a
        boolean on the device, computed without waiting for it.

        Under 16-mixed only the loss is checked: the gradients are scaled, and the grad scaler
        checks them itself inside ``optimizer.step()``, skipping an overflowing update and
        lowering its scale. Skipping the step here would keep the scaler from lowering it, and
        every later update would overflow too. Under DDP the processes decide together (a loss
        is one process's, summed over all of them), so that they keep the same weights and
        grad scales.
        """
        checked = () if scales_gradients(self.trainer.precision_plugin) else optimizers
        is_finite = finite(loss, [optimizer.optimizer for optimizer in checked])
        nonfinite = (~is_finite).float()
        if self.trainer.world_size > 1 and torch.distributed.is_initialized():
            # all-reduced directly: Lightning's strategy.reduce puts a barrier before it, which
            # would hold the host until every process arrives, at every update
            torch.distributed.all_reduce(nonfinite)
        return nonfinite == 0

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

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        batches_done = self.trainer.fit_loop.total_batch_idx + 1
        if self.max_iterations is not None and batches_done >= self.max_iterations:
            self.trainer.should_stop = True

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
        self.log_dict(  # the same on every process
            {
                f"lr/{name}": optimizer.param_groups[0]["lr"]
                for name, optimizer in self._optimizers_by_name().items()
            }
        )

    # ----------------------------------------------------------------------- validation
    def validation_step(self, batch: Batch, batch_idx: int) -> dict[str, Any]:
        # Validation must not move training's random stream (a gradient penalty draws its
        # interpolation weights): a resumed run, which validates at other moments, stays exact.
        with isolate_rng(), self.averaged_weights():
            return self._validation_step(batch)

    def _validation_step(self, batch: Batch) -> dict[str, Any]:
        outputs = self._generate(batch)
        terms: LossTerms = {}
        for step in self.training_steps():
            terms.update(step.loss(batch, outputs)[1])
        batch_size = _batch_size(batch)
        self.log_dict(
            {f"val/{name}": value for name, value in terms.items()},
            batch_size=batch_size,
            sync_dist=True,
        )
        errors = ground_truth_errors(batch, outputs, self.translations)
        for shown in (True, False):  # the L1 errors in the progress bar
            self.log_dict(
                {
                    f"val/gt_{name}": value.mean()
                    for name, value in errors.items()
                    if name.startswith("L1_") == shown
                },
                batch_size=batch_size,
                sync_dist=True,
                prog_bar=shown,
            )
        return {"visuals": self.visuals(batch, outputs)}


def _batch_size(batch: Batch) -> int:
    """The number of items in ``batch``: the length of its first tensor."""
    return next(len(value) for value in batch.values() if isinstance(value, Tensor))

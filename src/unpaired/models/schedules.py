"""Learning-rate schedules of the papers, as objects that checkpoints restore."""

from __future__ import annotations

from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LRScheduler

from unpaired.errors import ConfigError


class LinearDecay:
    """CycleGAN's ``linear`` policy: factor 1 for ``n_epochs`` epochs, then linear decay over
    ``n_epochs_decay`` epochs: ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``, and
    0 after the schedule's end (the authors' formula goes negative there: gradient ascent)."""

    def __init__(self, n_epochs: int, n_epochs_decay: int) -> None:
        if n_epochs < 0 or n_epochs_decay < 0:
            raise ValueError(
                f"n_epochs and n_epochs_decay must be >= 0, got {n_epochs} and {n_epochs_decay}"
            )
        self.n_epochs = n_epochs
        self.n_epochs_decay = n_epochs_decay

    @property
    def length(self) -> int:
        """Epochs with a learning rate above 0."""
        return self.n_epochs + self.n_epochs_decay

    def __call__(self, epoch: int) -> float:
        return max(0.0, 1.0 - max(0, epoch + 1 - self.n_epochs) / float(self.n_epochs_decay + 1))


class LinearDecayLR(LambdaLR):
    """:class:`LinearDecay` as a scheduler whose checkpoint holds its position, not its shape.

    ``LambdaLR`` saves the attributes of its factor function and restores them over the
    configured ones, so a run resumed with a longer schedule (``model.scheduler.n_epochs_decay``
    raised) would keep the old one and stop decaying where it used to. Here the configured
    ``n_epochs`` and ``n_epochs_decay`` always apply: a checkpoint restores the epoch count and
    the base learning rates, and the learning rate is set to the configured schedule's value at
    the restored epoch.
    """

    def __init__(self, optimizer: Optimizer, n_epochs: int, n_epochs_decay: int) -> None:
        self.decay = LinearDecay(n_epochs, n_epochs_decay)
        super().__init__(optimizer, self.decay)

    @property
    def length(self) -> int:
        return self.decay.length

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.pop("lr_lambdas")
        state.pop("decay", None)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # A checkpoint of a plain LambdaLR (written before this class) holds its lr_lambdas:
        # the configured schedule wins over them too.
        position = {key: value for key, value in state_dict.items() if key != "lr_lambdas"}
        position.pop("decay", None)
        self.__dict__.update(position)
        factor = self.decay(self.last_epoch)
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base_lr * factor
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def linear_decay(optimizer: Optimizer, n_epochs: int, n_epochs_decay: int) -> LinearDecayLR:
    """The scheduler a model config names as ``_target_`` (with ``_partial_: true``)."""
    return LinearDecayLR(optimizer, n_epochs, n_epochs_decay)


def check_run_length(scheduler: LRScheduler, max_epochs: int | None) -> None:
    """Refuse a run longer than a schedule that decays to zero.

    Raises:
        ConfigError: ``max_epochs`` is longer than ``scheduler``'s :class:`LinearDecay`; the
            message names both keys.
    """
    if not isinstance(scheduler, LinearDecayLR) or max_epochs is None or max_epochs < 0:
        return
    decay = scheduler.decay
    if max_epochs > decay.length:
        raise ConfigError(
            f"trainer.max_epochs={max_epochs} is longer than the learning-rate schedule, "
            f"model.scheduler.n_epochs + model.scheduler.n_epochs_decay = {decay.n_epochs} + "
            f"{decay.n_epochs_decay} = {decay.length} epochs, after which the learning rate is "
            "0. To train longer, raise model.scheduler.n_epochs_decay (or n_epochs): "
            "trainer.max_epochs follows them unless it is set."
        )


class InverseDecay:
    """The AdaIN authors' schedule (their ``adjust_learning_rate``, after the original Lua
    code): factor ``1 / (1 + decay * iteration)`` at iteration 0, 1, 2, ..."""

    def __init__(self, decay: float) -> None:
        if decay < 0:
            raise ValueError(f"decay must be >= 0, got {decay}")
        self.decay = decay

    def __call__(self, iteration: int) -> float:
        return 1.0 / (1.0 + self.decay * iteration)


def inverse_decay(optimizer: Optimizer, decay: float) -> LambdaLR:
    """:class:`InverseDecay` as a scheduler (advance it every step: ``scheduler_interval:
    step``); its checkpoint holds the iteration and the decay."""
    return LambdaLR(optimizer, InverseDecay(decay))

"""Experiment loggers as this project configures them."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger


class WandbLogger(LightningWandbLogger):
    """Lightning's wandb logger without the ``anonymous`` argument when it is not set.

    Lightning passes ``anonymous=None`` to ``wandb.init`` whatever the configuration, and wandb
    answers every run with a warning that the setting has no effect; leaving the argument out
    says the same to wandb, silently. Everything else is Lightning's.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._wandb_init.get("anonymous") is None:
            self._wandb_init.pop("anonymous", None)

"""Rebuild the module a training checkpoint was written by, with its trained weights."""

from __future__ import annotations

from pathlib import Path

import torch

from unpaired.inference.load import build_module
from unpaired.models.base import GenerativeModule
from unpaired.utils.checkpoint import check_compatible, load_checkpoint


def load_module(
    path: str | Path, device: torch.device | str = "cpu", weights: str = "ema"
) -> tuple[GenerativeModule, str]:
    """The trained module of checkpoint ``path`` (its class, settings and weights), in eval mode
    on ``device``, and the weights it uses: ``weights="ema"`` uses its averaged weights when it
    has them (then ``"ema"`` is returned), ``"raw"`` the trained ones.

    Raises:
        CheckpointError: unreadable file, no recorded model class (a checkpoint written by an
            older version), a class that is not one of our models, or weights that do not fit.
    """
    path = Path(path).expanduser()
    checkpoint = load_checkpoint(path)
    module = build_module(checkpoint, path)
    check_compatible(checkpoint, module, path)
    module.load_state_dict(checkpoint["state_dict"])
    used = module.select_weights(weights)
    return module.eval().to(device), used

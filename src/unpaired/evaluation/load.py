"""Rebuild the module a training checkpoint was written by, with its trained weights.

A checkpoint names its module class (``model_target``, written by ``GANModule.on_save_checkpoint``)
and holds the constructor's arguments (``hyper_parameters``) and the weights (``state_dict``).
"""

from __future__ import annotations

from pathlib import Path

import hydra.utils

from unpaired.errors import CheckpointError
from unpaired.models.base import GANModule
from unpaired.utils.checkpoint import check_compatible, load_checkpoint

MODEL_TARGET_KEY = "model_target"


def load_module(path: str | Path, device: str = "cpu") -> GANModule:
    """The trained module of checkpoint ``path``, in eval mode on ``device``.

    Raises:
        CheckpointError: unreadable file, no ``model_target`` (a checkpoint written before it
            was recorded), a class that is not a :class:`GANModule`, or weights that do not fit.
    """
    path = Path(path).expanduser()
    checkpoint = load_checkpoint(path)
    target = checkpoint.get(MODEL_TARGET_KEY)
    if target is None or "hyper_parameters" not in checkpoint:
        raise CheckpointError(
            f"checkpoint {path} does not record its model class ({MODEL_TARGET_KEY}) and "
            "settings: it was written by an older version. Evaluate a checkpoint written by "
            "this version (train again, or resume it for one epoch)."
        )
    try:
        cls = hydra.utils.get_class(target)
    except Exception as error:
        raise CheckpointError(f"checkpoint {path}: unknown model class {target}") from error
    if not issubclass(cls, GANModule):
        raise CheckpointError(f"checkpoint {path}: {target} is not a GANModule")
    module = cls(**checkpoint["hyper_parameters"])
    check_compatible(checkpoint, module, path)
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval().to(device)

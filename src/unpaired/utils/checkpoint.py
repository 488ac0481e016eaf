"""Checkpoints read without running pickled code, written atomically, and checked against the model.

Our checkpoints hold only tensors and plain values: the module's hyperparameters are plain dicts
(the train CLI instantiates the model with ``_convert_="all"``), the history pools are lists of
tensors, the RNG states are tensors, ints and tuples (:mod:`unpaired.utils.rng`), and Lightning's
own entries (loops, optimisers, schedulers) are dicts of numbers. torch's weights-only unpickler
accepts all of that without extending its allow-list, so none is extended: a file that needs any
other global, such as a function that unpickling would call, is refused.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

from unpaired.errors import CheckpointError
from unpaired.utils.disk import atomic_write

if TYPE_CHECKING:
    from unpaired.models.base import GenerativeModule

#: Checkpoint entry (and safetensors header field) naming the module class that wrote it.
MODEL_TARGET_KEY = "model_target"

log = logging.getLogger(__name__)

_SHOWN_KEYS = 3


def load_checkpoint(path: str | Path, map_location: Any = "cpu", mmap: bool = False) -> dict:
    """Load a checkpoint with torch's weights-only unpickler.

    Args:
        map_location: as for :func:`torch.load`.
        mmap: map the tensors' storage instead of reading it (cheap look at a large file).

    Raises:
        CheckpointError: the file is missing, unreadable, or holds anything but tensors and
            plain values (pickled code is never executed).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"refusing to load {path}: it holds {_forbidden_global(error)}, which loading would "
            "execute. Our checkpoints hold only tensors and plain values; use only files from a "
            "source you trust, and re-save such a file's weights with a trusted tool."
        ) from error
    except (RuntimeError, EOFError) as error:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt?): {error}"
        ) from error


def _forbidden_global(error: pickle.UnpicklingError) -> str:
    match = re.search(r"GLOBAL (\S+)", str(error))
    return f"a reference to {match.group(1)}" if match else "objects other than tensors"


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint I/O with our two guarantees.

    Every write is atomic (:func:`unpaired.utils.disk.atomic_write`): a kill, a crash or a full
    disk during a save leaves the previous file intact, and a failed write raises a
    :class:`CheckpointError` that says so. Every read is weights-only (:func:`load_checkpoint`),
    whatever ``weights_only`` the caller passes. Configured as a trainer plugin
    (``conf/trainer/default.yaml``), it serves all checkpoint writes of a run, including
    Lightning's own SLURM requeue save.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        atomic_write(path, lambda file: torch.save(checkpoint, file))

    def load_checkpoint(
        self, path: str | Path, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return load_checkpoint(path, map_location=map_location or "cpu")


def check_compatible(checkpoint: Mapping[str, Any], module: torch.nn.Module, path: Path) -> None:
    """Check that ``checkpoint``'s weights fit ``module`` before Lightning loads them.

    Raises:
        CheckpointError: keys are missing, unexpected or of another shape; the message lists
            them and the model settings (``model.*``) in which checkpoint and config differ.
    Settings that differ while the weights fit (a loss weight, say) are only logged.
    """
    problems = _state_dict_problems(checkpoint.get("state_dict", {}), module.state_dict())
    # where a pretrained network's file was does not matter: the checkpoint holds its weights
    ignored = set(getattr(module, "pretrained_weight_files", ()))
    saved = {k: v for k, v in checkpoint.get("hyper_parameters", {}).items() if k not in ignored}
    current = {k: v for k, v in getattr(module, "hparams", {}).items() if k not in ignored}
    differences = setting_differences(saved, current)
    if problems:
        cause = (
            f" It was trained with {differences}: repeat those overrides (its run's "
            ".hydra/overrides.yaml lists them)."
            if differences
            else " No model setting differs, so it may come from another version of the code."
        )
        raise CheckpointError(
            f"checkpoint {path} does not fit the configured model: {'; '.join(problems)}.{cause}"
        )
    if differences:
        log.warning("checkpoint %s was trained with %s; continuing with those", path, differences)


def setting_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """``model.<key>=<saved> (config: <current>)`` for each model setting that differs, or ''."""
    saved_flat, current_flat = _flatten(saved, "model"), _flatten(current, "model")
    missing = "<absent>"
    return ", ".join(
        f"{key}={saved_flat.get(key, missing)} (config: {current_flat.get(key, missing)})"
        for key in sorted(saved_flat.keys() | current_flat.keys())
        if saved_flat.get(key, missing) != current_flat.get(key, missing)
    )


def _flatten(tree: Any, prefix: str) -> dict[str, Any]:
    if isinstance(tree, Mapping):
        flat: dict[str, Any] = {}
        for key, value in tree.items():
            flat.update(_flatten(value, f"{prefix}.{key}"))
        return flat
    return {prefix: list(tree) if isinstance(tree, tuple) else tree}


def _state_dict_problems(saved: Mapping[str, Tensor], current: Mapping[str, Tensor]) -> list[str]:
    missing = sorted(current.keys() - saved.keys())
    unexpected = sorted(saved.keys() - current.keys())
    reshaped = [
        f"{key}: checkpoint {tuple(saved[key].shape)}, model {tuple(current[key].shape)}"
        for key in sorted(saved.keys() & current.keys())
        if saved[key].shape != current[key].shape
    ]
    problems = []
    for label, items in (
        ("missing keys", missing),
        ("unexpected keys", unexpected),
        ("shape mismatches", reshaped),
    ):
        if items:
            problems.append(f"{len(items)} {label} ({_first(items)})")
    return problems


def _first(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN_KEYS])
    return shown if len(items) <= _SHOWN_KEYS else f"{shown}, +{len(items) - _SHOWN_KEYS} more"


def generator_state_dict(module: GenerativeModule) -> dict[str, Tensor]:
    """The weights of the module's generating side (its ``generator_networks``: CycleGAN's
    ``G_AB`` and ``G_BA``; and those of its ``pretrained_networks`` it has), and their averages
    if it keeps any (``ema.copies.G_AB``, ...), keyed as in the module."""
    networks = {name: getattr(module, name) for name in module.generator_networks}
    pretrained = {name: getattr(module, name) for name in module.pretrained_networks}
    networks |= {name: net for name, net in pretrained.items() if net is not None}
    if module.ema is not None:
        networks.update({f"ema.copies.{name}": net for name, net in module.ema.copies.items()})
    return {
        f"{name}.{key}": value.detach().cpu().contiguous()
        for name, network in networks.items()
        for key, value in network.state_dict().items()
    }


def save_generators(module: GenerativeModule, path: str | Path, **metadata: str) -> None:
    """Write the generator weights as safetensors (no pickle: safe to share and to load
    anywhere), with the module's hyperparameters as JSON and ``metadata`` in the header."""
    header = {
        "hyper_parameters": json.dumps(dict(module.hparams), default=str),
        MODEL_TARGET_KEY: module.target(),
        **metadata,
    }
    data = safetensors_bytes(generator_state_dict(module), metadata=header)
    atomic_write(path, lambda file: file.write(data))

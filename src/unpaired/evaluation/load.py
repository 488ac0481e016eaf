"""The models an evaluation compares: the module a training checkpoint was written by, with its
trained weights and what the checkpoint records of its training, or one generator from a file of
``unpaired-export`` (or the authors')."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf
from torch import Tensor

from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.inference.load import Translator, build_module, load_translator
from unpaired.models.base import GenerativeModule
from unpaired.utils.checkpoint import MODEL_TARGET_KEY, check_compatible, load_checkpoint


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


def training_summary(path: str | Path) -> dict[str, Any]:
    """What a checkpoint says of its training: the method (model class), the epoch and step it
    was saved at, and, for a checkpoint in a run's ``checkpoints/`` folder, the run's name and
    preset (``experiment=``, from the run's ``.hydra/``; None when trained without one)."""
    path = Path(path).expanduser()
    checkpoint = load_checkpoint(path, mmap=True)
    summary: dict[str, Any] = {
        "method": str(checkpoint.get(MODEL_TARGET_KEY, "unknown")).rsplit(".", 1)[-1],
        "epoch": checkpoint.get("epoch"),
        "step": checkpoint.get("global_step"),
    }
    run = path.absolute().parent.parent
    hydra_file = run / ".hydra" / "hydra.yaml"
    if path.parent.name == "checkpoints" and hydra_file.is_file():
        choices = OmegaConf.select(OmegaConf.load(hydra_file), "hydra.runtime.choices")
        summary["preset"] = choices.get("experiment") if choices is not None else None
        summary["run"] = f"{run.parent.name}/{run.name}"
    return summary


@dataclass(frozen=True)
class ExportedGenerator:
    """One generator of a file (``unpaired-export``'s safetensors, TorchScript or ONNX, the
    authors' ``.pth``) as the model of an evaluation: it makes one translation, and no way back
    (so no reconstructions)."""

    translator: Translator
    translation: Translation

    @property
    def domains(self) -> tuple[str, str]:
        return self.translation.source, self.translation.target

    @property
    def translations(self) -> tuple[Translation]:
        return (self.translation,)

    def translate(self, images: Tensor, direction: Translation) -> Tensor:
        return self.translator(images)


def load_model(
    path: Path, device: torch.device, weights: str, translation: Translation | None
) -> tuple[GenerativeModule | ExportedGenerator, dict[str, Any]]:
    """The model in ``path`` to evaluate, and what ``results.json`` records of it: a training
    checkpoint (``.ckpt``) as :func:`load_module` and :func:`training_summary` read it; any
    other file as the generator of ``translation`` it holds (:func:`load_translator`).

    Raises:
        ConfigError: a generator file without the ``translation`` it makes.
    """
    if path.suffix == ".ckpt":
        module, used = load_module(path, device, weights)
        about = {
            "checkpoint": str(path),
            "model": module.target(),
            "weights": used,  # ema: the averaged weights of a model trained with model.ema
            "training": training_summary(path),
        }
        return module, about
    if translation is None:
        raise ConfigError(f"{path} is a generator file: say which translation it makes")
    translator = load_translator(path, str(translation), device, weights=weights)
    about = {
        "checkpoint": str(path),
        "model": f"exported generator ({path.suffix})",
        "training": {"method": f"exported {translation.source} → {translation.target}"},
    }
    return ExportedGenerator(translator, translation), about

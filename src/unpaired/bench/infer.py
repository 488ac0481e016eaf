"""Inference speed: our translator against the authors' test loop.

Modes (see :mod:`unpaired.bench.modes`):

- ``reference``: the CycleGAN authors' ``test.py``: the generator in eval mode under
  ``torch.no_grad``, fp32, NCHW, one image at a time (their test script forces batch size 1),
  torch's instance norm, cuDNN autotuning on;
- ``fast``: :func:`~unpaired.inference.module_translator` with the options of the ``inference``
  config node (conf/inference/default.yaml), as ``unpaired-translate`` runs a checkpoint;
- ``LABEL:OVERRIDES``: ``fast`` with more overrides (``inference.precision=bf16``, ...).

A step translates one batch of ``batch`` random images of ``size`` x ``size`` (the reference one
at a time, as its script does) with a generator built from ``model.generator`` (random weights:
speed does not depend on them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from unpaired.bench.modes import ModeChoice, compose_plain, device_of
from unpaired.bench.train import with_torch_instance_norm
from unpaired.bench.workers import ModeSpec, StepControl, serve_steps
from unpaired.errors import ConfigError
from unpaired.inference import module_translator
from unpaired.nn import init_weights

INFER_MODES = ("reference", "fast")


@dataclass(frozen=True)
class InferSpec:
    """What a worker needs to build one inference mode (plain values: it crosses processes)."""

    kind: str  # "reference" or "fast"
    config: dict[str, Any]
    device: str
    size: int
    batch: int


def _generator(config: dict[str, Any]) -> nn.Module:
    model = config["model"]
    torch.manual_seed(config.get("seed") or 0)
    generator = instantiate(model["generator"])
    return init_weights(generator, model.get("init_type", "normal"), model.get("init_gain", 0.02))


def _images(spec: InferSpec, device: torch.device) -> Tensor:
    channels = spec.config["model"]["generator"].get("input_nc", 3)
    generator = torch.Generator().manual_seed(spec.config.get("seed") or 0)
    shape = (spec.batch, channels, spec.size, spec.size)
    return (torch.rand(shape, generator=generator) * 2 - 1).to(device)


class ReferenceInference:
    """The ``reference`` mode's worker: the authors' test loop over one batch of images."""

    def __init__(self, spec: InferSpec) -> None:
        self.device = torch.device(spec.device)
        generator = _generator(spec.config)
        multiple = getattr(generator, "size_multiple", 1)
        if spec.size % multiple:
            raise ConfigError(
                f"--size {spec.size} is not a multiple of {multiple}, which this generator needs; "
                f"the authors' test resizes images to such sides, so compare at one, e.g. "
                f"--size {spec.size + multiple - spec.size % multiple}."
            )
        self.generator = with_torch_instance_norm(generator).to(self.device).eval()
        self.images = _images(spec, self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    def translate(self) -> list[Tensor]:
        with torch.no_grad():
            return [self.generator(image) for image in self.images.split(1)]

    def serve(self, control: StepControl) -> None:
        serve_steps(control, self.translate)


class FastInference:
    """The ``fast`` mode's worker: the generator in a translator with the configured options."""

    def __init__(self, spec: InferSpec) -> None:
        self.device = torch.device(spec.device)
        options = dict(spec.config["inference"])
        options.pop("weights")  # which weights to load: a generator built here has only its own
        self.translator = module_translator(_generator(spec.config), self.device, **options)
        self.images = _images(spec, self.device)

    def serve(self, control: StepControl) -> None:
        serve_steps(control, lambda: self.translator(self.images))


def build_inference(spec: InferSpec) -> ReferenceInference | FastInference:
    """Build a mode's runner inside its worker."""
    return ReferenceInference(spec) if spec.kind == "reference" else FastInference(spec)


def compose_inference(overrides: Sequence[str]) -> dict[str, Any]:
    """conf/train.yaml with the ``inference`` node of ``unpaired-translate`` added, composed with
    ``overrides`` (``model.*``, ``inference.*``, ...)."""
    return compose_plain(["+inference=default", *overrides])


def inference_modes(
    choices: Sequence[ModeChoice], overrides: Sequence[str], size: int, batch: int
) -> dict[str, ModeSpec]:
    """The workers' specs of ``choices``, each composed from ``overrides`` and its own."""
    if batch < 1:
        raise ConfigError(f"--batch must be >= 1, got {batch}.")
    modes = {}
    for choice in choices:
        config = compose_inference([*overrides, *choice.overrides])
        spec = InferSpec(choice.base, config, device_of(config["trainer"]), size, batch)
        modes[choice.name] = ModeSpec(build_inference, spec, batch)
    return modes

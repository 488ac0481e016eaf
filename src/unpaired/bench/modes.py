"""The modes a benchmark compares, and the composed configuration each one runs.

A mode is named on the command line as ``reference`` (the CycleGAN authors' code, reproduced),
``fast`` (our code as the configuration sets it), ``data`` (training only: ``fast`` fed by the
configured DataModule), or ``LABEL:OVERRIDE [OVERRIDE ...]``: ``fast`` with more Hydra overrides,
e.g. ``"bf16:trainer.precision=bf16-mixed"``, to measure one lever side by side with the others.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf, open_dict

from unpaired.cli.common import null_group_overrides
from unpaired.config import config_dir, register_resolvers
from unpaired.errors import ConfigError


@dataclass(frozen=True)
class ModeChoice:
    """One mode to measure: its ``name`` in the figures, the ``base`` mode it is a variant of,
    and the overrides it adds to the benchmark's own."""

    name: str
    base: str
    overrides: tuple[str, ...] = ()


def parse_mode(text: str, bases: Sequence[str]) -> ModeChoice:
    """``text`` as one of ``bases`` or as ``LABEL:OVERRIDE [OVERRIDE ...]`` (a variant of
    ``fast``; the overrides are split like a shell would)."""
    if text in bases:
        return ModeChoice(text, text)
    label, colon, overrides = text.partition(":")
    if not colon or not label.strip() or not overrides.strip():
        raise ConfigError(
            f"--mode {text!r} is not a mode: use one of {', '.join(bases)}, or "
            f'LABEL:OVERRIDES for a variant of fast, e.g. "bf16:trainer.precision=bf16-mixed".'
        )
    if label.strip() in bases:
        raise ConfigError(f"--mode {text!r}: the label {label.strip()!r} names a built-in mode.")
    return ModeChoice(label.strip(), "fast", tuple(shlex.split(overrides)))


def unique_modes(choices: Sequence[ModeChoice]) -> list[ModeChoice]:
    """``choices`` with every name once; two different modes under one name are an error."""
    by_name: dict[str, ModeChoice] = {}
    for choice in choices:
        if by_name.setdefault(choice.name, choice) != choice:
            raise ConfigError(f"two different --mode options are both named {choice.name!r}.")
    return list(by_name.values())


def compose_plain(overrides: Sequence[str]) -> dict[str, Any]:
    """``conf/train.yaml`` composed with ``overrides`` as ``unpaired-train`` would, resolved to
    plain values (``${hydra:...}`` against the current folder; no run folder exists, so
    ``paths.output_dir`` is None), without Hydra's own node."""
    register_resolvers()
    overrides = null_group_overrides(overrides, config_dir())
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # what ${hydra:...} reads
    with open_dict(cfg):
        del cfg["hydra"]
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    return plain


def device_of(trainer: dict[str, Any]) -> str:
    """The device a composed ``trainer`` node trains on: ``cuda`` or ``cpu``."""
    accelerator = str(trainer.get("accelerator", "auto"))
    if accelerator == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if accelerator in ("gpu", "cuda"):
        return "cuda"
    if accelerator == "cpu":
        return "cpu"
    raise ConfigError(
        f"trainer.accelerator={accelerator}: the benchmarks run on cpu or cuda; "
        "set trainer.accelerator=cpu or trainer.accelerator=gpu."
    )

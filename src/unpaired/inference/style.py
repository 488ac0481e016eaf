"""Translating with a reference style: an AdaIN checkpoint given style images
(``unpaired-translate ... style_ref=<image>``), with the authors' ``alpha``, ``preserve_color``
and interpolation between several styles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from unpaired.errors import CheckpointError, ConfigError
from unpaired.evaluation.load import load_module
from unpaired.inference.load import Translator, resolve_device, size_multiple
from unpaired.stylization.images import from_unit, read_image


def style_translator(
    path: str | Path,
    style_ref: str | Sequence[str],
    style_weights: Sequence[float] | None = None,
    alpha: float = 1.0,
    preserve_color: bool = False,
    device: str | torch.device = "cpu",
    weights: str = "ema",
) -> Translator:
    """A :class:`~unpaired.inference.load.Translator` rendering images in the style of the
    ``style_ref`` image(s) with the style-transfer checkpoint ``path`` (a model with a
    ``stylize`` method: AdaIN), mixed with ``style_weights`` (equal when None).

    Raises:
        CheckpointError: no such file, or a model that does not translate by reference style.
        ConfigError: bad weights or ``alpha`` (from the model's ``stylize``).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"model file {path} not found: pass ckpt=<existing file>")
    device = resolve_device(device)
    module, _ = load_module(path, device, weights)
    if not hasattr(module, "stylize"):
        raise ConfigError(
            f"style_ref= needs a model that translates by reference style (AdaIN); {path} holds "
            f"a {type(module).__name__}: leave style_ref unset."
        )
    paths = [style_ref] if isinstance(style_ref, str | Path) else list(style_ref)
    styles = [from_unit(read_image(p)).to(device) for p in paths]

    def render(images: torch.Tensor) -> torch.Tensor:
        return module.stylize(images, styles, style_weights, alpha, preserve_color)

    return Translator(render, size_multiple(module), device, module)

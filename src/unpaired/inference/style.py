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
from unpaired.models.base import GenerativeModule
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
    ``style_ref`` image(s) with the style-transfer checkpoint ``path`` (see
    :func:`reference_style_translator`).

    Raises:
        CheckpointError: no such file, or an unreadable checkpoint.
        ConfigError: a model that does not translate by reference style, bad weights or ``alpha``.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"model file {path} not found: pass ckpt=<existing file>")
    device = resolve_device(device)
    module, _ = load_module(path, device, weights)
    return reference_style_translator(
        module, style_ref, style_weights, alpha, preserve_color, device
    )


def translates_by_reference_style(module: GenerativeModule) -> bool:
    """Whether ``module`` renders images in the style of given images (AdaIN: ``stylize``)."""
    return hasattr(module, "stylize")


def reference_style_translator(
    module: GenerativeModule,
    style_ref: str | Sequence[str],
    style_weights: Sequence[float] | None,
    alpha: float,
    preserve_color: bool,
    device: torch.device,
) -> Translator:
    """``module`` (a model with a ``stylize`` method: AdaIN) rendering images in the style of the
    ``style_ref`` image(s), mixed with ``style_weights`` (equal when None)."""
    if not translates_by_reference_style(module):
        raise ConfigError(
            f"style_ref= with alpha and style_weights needs a model that translates by reference "
            f"style (AdaIN); this is a {type(module).__name__}: leave style_ref unset."
        )
    paths = [style_ref] if isinstance(style_ref, str | Path) else list(style_ref)
    styles = [from_unit(read_image(p)).to(device) for p in paths]

    def render(images: torch.Tensor) -> torch.Tensor:
        return module.stylize(images, styles, style_weights, alpha, preserve_color)

    return Translator(render, size_multiple(module), device, module)

"""``unpaired-stylize``: Gatys et al.'s style transfer, optimising the image itself.

    unpaired-stylize content=photo.jpg style=starry_night.jpg output=out/photo_starry.png

The content image is optimised at ``size`` (its shorter side; null: as it is) and the result is
resized back to the content image's size. Its loss curve (content and style terms of every
step) goes beside it as ``<output>.csv``, and as ``<output>_loss.png`` when matplotlib is
installed (the ``plots`` extra). See :mod:`unpaired.stylization.gatys` for the losses and
conf/gatys/ for the presets.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torchvision.utils import save_image

from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.screen import count_progress, quiet_third_parties
from unpaired.config import config_dir
from unpaired.errors import ConfigError
from unpaired.inference.load import resolve_device
from unpaired.nn.vgg import VGGFeatures
from unpaired.stylization.gatys import INITS, GatysLoss, GatysSettings, optimise_image
from unpaired.stylization.images import match_colours, read_image

log = logging.getLogger(__name__)


def style_paths(style: str | Sequence[str]) -> list[str]:
    """``style=`` as a list of paths (one path or a list)."""
    return [style] if isinstance(style, str) else [str(s) for s in style]


def stylize(cfg: DictConfig) -> Path:
    """Stylise as ``cfg`` says (conf/stylize.yaml); returns the result's path."""
    device = resolve_device(cfg.device)
    gatys = cfg.gatys
    if gatys.init not in INITS:
        raise ConfigError(f"gatys.init={gatys.init!r} is not one of {', '.join(INITS)}")
    settings = GatysSettings(
        arch=gatys.arch,
        content_layers=list(gatys.content_layers),
        style_layers=list(gatys.style_layers),
        content_weight=float(gatys.content_weight),
        style_weight=float(gatys.style_weight),
        scale=gatys.scale,
        pooling=gatys.pooling,
    )
    paths = style_paths(cfg.style)
    weights = [1.0] * len(paths) if cfg.style_weights is None else list(cfg.style_weights)
    if len(weights) != len(paths) or min(weights) < 0 or sum(weights) <= 0:
        raise ConfigError(
            f"style_weights={weights} for {len(paths)} style image(s): give one non-negative "
            "weight per style image, not all zero."
        )
    original = read_image(cfg.content)
    size = None if cfg.size is None else int(cfg.size)
    content = (read_image(cfg.content, size) if size else original).to(device)
    styles = [read_image(path, size).to(device) for path in paths]
    if cfg.preserve_color:
        styles = [match_colours(style, content).clamp(0, 1) for style in styles]
    network = VGGFeatures(
        settings.arch,
        [*settings.content_layers, *settings.style_layers],
        cfg.vgg_weights,
        option="vgg_weights",
        pooling=settings.pooling,
    ).to(device)
    loss = GatysLoss(network, settings, content, styles, weights)
    if gatys.init == "content":
        start = content
    else:
        start = torch.rand(content.shape, generator=torch.Generator().manual_seed(int(cfg.seed)))
    with count_progress() as progress:
        task = progress.add_task("stylizing", total=int(cfg.steps))
        image, curve = optimise_image(
            loss,
            start.to(device),
            int(cfg.steps),
            cfg.optimizer,
            float(cfg.lr),
            on_step=lambda step, c, s: progress.update(task, completed=step),
        )
    if image.shape[-2:] != original.shape[-2:]:
        image = F.interpolate(image, size=original.shape[-2:], mode="bicubic").clamp(0, 1)
    output = Path(cfg.output).expanduser()
    output.parent.mkdir(parents=True, exist_ok=True)
    save_image(image.cpu(), output)
    write_curve(curve, output)
    first, last = sum(curve[0]), sum(curve[-1])
    log.info("loss %.4g -> %.4g in %d steps; wrote %s", first, last, len(curve), output)
    return output


def write_curve(curve: list[tuple[float, float]], output: Path) -> None:
    """The loss curve beside ``output``: a CSV always, a plot when matplotlib is installed."""
    with open(output.with_suffix(".csv"), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["step", "content", "style", "total"])
        for step, (content, style) in enumerate(curve, 1):
            writer.writerow([step, content, style, content + style])
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        log.info("matplotlib is not installed: the loss curve is in the CSV only")
        return
    figure, axes = pyplot.subplots(figsize=(5, 3))
    steps = range(1, len(curve) + 1)
    for index, name in enumerate(("content", "style")):
        axes.plot(steps, [terms[index] for terms in curve], label=name)
    axes.plot(steps, [sum(terms) for terms in curve], label="total")
    axes.set(xlabel="step", ylabel="loss", yscale="log")
    axes.legend()
    figure.tight_layout()
    figure.savefig(output.with_name(output.stem + "_loss.png"))
    pyplot.close(figure)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="stylize")
def _main(cfg: DictConfig) -> Any:
    return run_reporting_user_errors(stylize, cfg)


def main() -> None:
    quiet_third_parties()
    _main()


if __name__ == "__main__":
    main()

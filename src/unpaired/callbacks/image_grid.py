"""Translation grids (one row per image, one column per visual, a header row naming the columns)
as PNG files and in the loggers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import Logger, TensorBoardLogger, WandbLogger
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from torchvision.utils import make_grid, save_image

#: Pixels between tiles (and around the grid), as torchvision's ``make_grid`` puts them.
PADDING = 2
#: Height of the header row; its labels are drawn at most this size minus 4 pixels.
HEADER_HEIGHT = 15
_SMALLEST_FONT = 6


def column_label(name: str) -> str:
    """The header of a visual: ``real_A`` -> ``real A``, ``fake_cat`` -> ``fake cat``."""
    return name.replace("_", " ")


def image_grid(visuals: Mapping[str, Tensor], max_images: int) -> Tensor:
    """A (3, H, W) grid in [0, 1]: a header row with the visuals' labels
    (:func:`column_label`), then row i shows image i of every visual, in the visuals' order.
    Visuals of clips (``N x T x C x H x W``, all of one length) show their frames as rows: row
    ``i * T + t`` is frame t of clip i."""
    columns = [v.detach()[:max_images].float().cpu() for v in visuals.values()]
    columns = [c.flatten(0, 1) if c.dim() == 5 else c for c in columns]
    columns = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
    tiles = torch.stack(columns, dim=1).flatten(0, 1)  # image-major: row by row
    grid = make_grid(tiles, nrow=len(columns), padding=PADDING, normalize=True, value_range=(-1, 1))
    labels = [column_label(name) for name in visuals]
    return torch.cat([header_row(labels, tile_width=tiles.shape[-1]), grid], dim=1)


def header_row(labels: Sequence[str], tile_width: int) -> Tensor:
    """A (3, HEADER_HEIGHT, W) strip in [0, 1] that fits above a grid of ``len(labels)``
    columns of ``tile_width`` pixels: each label in white on black, centred over its column,
    in the largest font (up to 11 px) that fits the column, clipped to it if none does."""
    width = PADDING + len(labels) * (tile_width + PADDING)
    strip = Image.new("RGB", (width, HEADER_HEIGHT), "black")
    for index, label in enumerate(labels):
        tile = Image.new("RGB", (tile_width, HEADER_HEIGHT), "black")
        draw = ImageDraw.Draw(tile)
        font = _fitting_font(draw, label, tile_width)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        position = ((tile_width - (right - left)) / 2 - left, (HEADER_HEIGHT - bottom - top) / 2)
        draw.text(position, label, fill="white", font=font)
        strip.paste(tile, (PADDING + index * (tile_width + PADDING), 0))
    return torch.from_numpy(np.asarray(strip, dtype=np.float32) / 255).permute(2, 0, 1)


def _fitting_font(
    draw: ImageDraw.ImageDraw, label: str, width: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font (nothing to install or download) at the largest size that fits."""
    for size in range(HEADER_HEIGHT - 4, _SMALLEST_FONT - 1, -1):
        font = ImageFont.load_default(size=size)
        left, _, right, _ = draw.textbbox((0, 0), label, font=font)
        if right - left <= width:
            break
    return font


def with_truth(visuals: Mapping[str, Tensor], batch: Mapping[str, Any]) -> dict[str, Tensor]:
    """``visuals`` with the true translations a batch holds (``target_X``, the synthetic set's
    and aligned pairs' validation batches) as ``true_X``, each right after ``fake_X`` (at the
    end if the model made no ``fake_X``)."""
    truths = {
        key.removeprefix("target_"): value
        for key, value in batch.items()
        if key.startswith("target_") and torch.is_tensor(value)
    }
    shown: dict[str, Tensor] = {}
    for name, images in visuals.items():
        shown[name] = images
        domain = name.removeprefix("fake_")
        if name.startswith("fake_") and domain in truths:
            shown[f"true_{domain}"] = truths.pop(domain)
    shown.update({f"true_{domain}": images for domain, images in truths.items()})
    return shown


def to_pil(grid: Tensor) -> Image.Image:
    """A [0, 1] grid as the 8-bit image ``save_image`` writes (the same rounding). wandb is given
    this rather than the tensor: wandb >= 0.2x casts float tensors to uint8 without scaling, and
    a [0, 1] grid came out black."""
    pixels = grid.detach().mul(255).add(0.5).clamp(0, 255).permute(1, 2, 0)
    return Image.fromarray(pixels.to("cpu", torch.uint8).numpy())


def log_image(loggers: list[Logger], key: str, grid: Tensor, caption: str, step: int) -> None:
    """Send a grid to every logger that shows images (wandb, TensorBoard); others keep the PNG."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=[to_pil(grid)], caption=[caption])
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, grid, global_step=step)


class ImageGrid(L.Callback):
    """Saves ``samples/train_step<N>.png`` every ``every_n_steps`` training batches and
    ``samples/val_epoch<N>.png`` from the first validation batch of each validation run, with
    the true translations beside the model's where the batch holds them (:func:`with_truth`).

    The images come from the training/validation step's own outputs, so a grid costs no extra
    forward pass.
    """

    def __init__(self, dirpath: str | Path, every_n_steps: int = 500, max_images: int = 4) -> None:
        super().__init__()
        self.dirpath = Path(dirpath)
        self.every_n_steps = every_n_steps
        self.max_images = max_images

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = trainer.fit_loop.total_batch_idx
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            visuals = with_truth(outputs["visuals"], batch)
            self._save(trainer, visuals, f"train_step{step:07d}", "train/images", step)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if batch_idx == 0 and not trainer.sanity_checking:
            epoch = trainer.current_epoch
            visuals = with_truth(outputs["visuals"], batch)
            self._save(trainer, visuals, f"val_epoch{epoch:04d}", "val/images", epoch)

    def _save(
        self, trainer: L.Trainer, visuals: dict[str, Tensor], name: str, key: str, step: int
    ) -> None:
        if not trainer.is_global_zero:
            return
        grid = image_grid(visuals, self.max_images)
        self.dirpath.mkdir(parents=True, exist_ok=True)
        save_image(grid, self.dirpath / f"{name}.png")
        log_image(trainer.loggers, key, grid, " | ".join(map(column_label, visuals)), step)

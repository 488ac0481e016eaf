"""Translation grids (one row per image, one column per visual) as PNG files and in the loggers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import Logger, TensorBoardLogger, WandbLogger
from torch import Tensor
from torchvision.utils import make_grid, save_image


def image_grid(visuals: dict[str, Tensor], max_images: int) -> Tensor:
    """A (3, H, W) grid in [0, 1]: row i shows image i of every visual, in the visuals' order."""
    columns = [v.detach()[:max_images].float().cpu() for v in visuals.values()]
    columns = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
    tiles = torch.stack(columns, dim=1).flatten(0, 1)  # image-major: row by row
    return make_grid(tiles, nrow=len(columns), padding=2, normalize=True, value_range=(-1, 1))


def log_image(loggers: list[Logger], key: str, grid: Tensor, caption: str, step: int) -> None:
    """Send a grid to every logger that shows images (wandb, TensorBoard); others keep the PNG."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=[grid], caption=[caption])
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, grid, global_step=step)


class ImageGrid(L.Callback):
    """Saves ``samples/train_step<N>.png`` every ``every_n_steps`` training batches and
    ``samples/val_epoch<N>.png`` from the first validation batch of each validation run.

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
            self._save(trainer, outputs["visuals"], f"train_step{step:07d}", "train/images", step)

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
            self._save(trainer, outputs["visuals"], f"val_epoch{epoch:04d}", "val/images", epoch)

    def _save(
        self, trainer: L.Trainer, visuals: dict[str, Tensor], name: str, key: str, step: int
    ) -> None:
        if not trainer.is_global_zero:
            return
        grid = image_grid(visuals, self.max_images)
        self.dirpath.mkdir(parents=True, exist_ok=True)
        save_image(grid, self.dirpath / f"{name}.png")
        log_image(trainer.loggers, key, grid, " | ".join(visuals), step)

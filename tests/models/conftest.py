"""A tiny CycleGAN, fixed in-memory batches and an in-process Trainer, for tests that train a
module for a few steps and look at what the updates did."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from unpaired.models import CycleGAN

TINY_G = {"_target_": "unpaired.nn.ResnetGenerator", "ngf": 4, "n_blocks": 1}
TINY_D = {"_target_": "unpaired.nn.PatchGANDiscriminator", "ndf": 4, "n_layers": 2}


@pytest.fixture
def sgd_cyclegan() -> Callable[..., CycleGAN]:
    """Factory of a seeded tiny CycleGAN trained with plain SGD (with ``lr=1``, the default, an
    update is minus the gradient itself), without history pools (their random draws would make
    two runs differ) or identity loss; other keyword arguments go to :class:`CycleGAN`."""

    def make(lr: float = 1.0, **overrides: Any) -> CycleGAN:
        torch.manual_seed(0)
        options = {
            "generator": TINY_G,
            "discriminator": TINY_D,
            "optimizer": {"_target_": "torch.optim.SGD", "_partial_": True, "lr": lr},
            "scheduler": None,
            "pool_size": 0,
            "lambda_identity": 0.0,
        }
        return CycleGAN(**{**options, **overrides})

    return make


@pytest.fixture
def fixed_batches() -> Callable[..., DataLoader]:
    """Factory: ``fixed_batches(n_items, batch_size)``, the same random 16x16 images in order."""

    def make(n_items: int, batch_size: int) -> DataLoader:
        generator = torch.Generator().manual_seed(1)
        items = [
            {
                "A": torch.rand(3, 16, 16, generator=generator) * 2 - 1,
                "B": torch.rand(3, 16, 16, generator=generator) * 2 - 1,
            }
            for _ in range(n_items)
        ]
        return DataLoader(items, batch_size=batch_size, shuffle=False)

    return make


@pytest.fixture
def fit_one_epoch() -> Iterator[Callable[..., L.Trainer]]:
    """``fit_one_epoch(model, loader, **trainer_options)``: one epoch on the CPU, without logger
    or files, on one thread (for networks this small, more threads only cost time)."""

    def run(model: L.LightningModule, loader: DataLoader, **options: Any) -> L.Trainer:
        trainer = L.Trainer(
            **{
                "accelerator": "cpu",
                "max_epochs": 1,
                "logger": False,
                "enable_checkpointing": False,
                "enable_progress_bar": False,
                "enable_model_summary": False,
                **options,
            }
        )
        trainer.fit(model, train_dataloaders=loader)
        return trainer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield run
    torch.set_num_threads(threads)


def _sides(model: CycleGAN) -> tuple[torch.Tensor, torch.Tensor]:
    def flat(parameters: Iterable[torch.nn.Parameter]) -> torch.Tensor:
        return torch.cat([p.detach().flatten() for p in parameters]).clone()

    return flat(model.generator_parameters()), flat(model.discriminator_parameters())


@pytest.fixture
def sides() -> Callable[[CycleGAN], tuple[torch.Tensor, torch.Tensor]]:
    """``sides(model)``: copies of the generator side's and the discriminator side's parameters,
    each as one flat vector."""
    return _sides

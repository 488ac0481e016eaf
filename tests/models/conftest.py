"""Models for tests: composed from the real configs and shrunk to test size, or a tiny CycleGAN
with fixed in-memory batches and an in-process Trainer, to look at what a few updates did."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader

from unpaired.config import config_dir
from unpaired.models import CycleGAN

ComposeModel = Callable[..., DictConfig]
BuildModel = Callable[..., Any]
ModelArguments = Callable[..., dict[str, Any]]


@pytest.fixture
def compose_model() -> ComposeModel:
    """Factory: ``compose(name, *overrides)`` -> the ``model`` node of ``train.yaml`` composed
    with ``model=name`` and the overrides (Hydra override syntax, e.g. ``model.gan_w=2``)."""

    def compose_node(name: str, *overrides: str) -> DictConfig:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose("train", overrides=[f"model={name}", *overrides]).model

    return compose_node


@pytest.fixture
def build_model(compose_model: ComposeModel) -> BuildModel:
    """Factory: ``build(name, *overrides)`` -> the module, instantiated as the train entry point
    does it."""

    def build(name: str, *overrides: str) -> Any:
        return instantiate(compose_model(name, *overrides), _recursive_=False, _convert_="all")

    return build


@pytest.fixture
def model_arguments(compose_model: ComposeModel) -> ModelArguments:
    """Factory: ``arguments(name, *overrides)`` -> the model's constructor arguments, to call the
    class directly (Hydra's instantiate would wrap the errors it raises)."""

    def arguments(name: str, *overrides: str) -> dict[str, Any]:
        node = OmegaConf.to_container(compose_model(name, *overrides), resolve=True)
        node.pop("_target_")
        return node

    return arguments


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

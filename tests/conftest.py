"""Fixtures shared by several test folders: a tiny CycleGAN, tiny synthetic data, a tiny fit."""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback, Checkpoint

from unpaired.config import config_dir
from unpaired.data import synthetic
from unpaired.data.datamodule import SyntheticDataModule
from unpaired.models import CycleGAN
from unpaired.utils.checkpoint import SafeCheckpointIO

#: Images per domain in the tiny synthetic set: an epoch is 4 batches of one image.
N_TRAIN = 4
TINY_SPEC = synthetic.SyntheticSpec(image_size=32, n_train=N_TRAIN, n_test=2, seed=0)


@pytest.fixture
def make_cyclegan() -> Callable[..., CycleGAN]:
    """Factory: the configured CycleGAN with tiny networks; ``make(*overrides)`` adds overrides
    of the model config such as ``"model.generator.ngf=16"``."""

    def make(*overrides: str) -> CycleGAN:
        tiny = ["model.generator.ngf=8", "model.generator.n_blocks=1", "model.discriminator.ndf=8"]
        with initialize_config_dir(str(config_dir()), version_base="1.3"):
            cfg = compose("train", overrides=[*tiny, *overrides])
        return instantiate(cfg.model, _recursive_=False, _convert_="all")

    return make


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    synthetic.ensure(root, TINY_SPEC)
    return root


@pytest.fixture
def tiny_data(synthetic_root: Path) -> Callable[[], SyntheticDataModule]:
    """Factory of data modules over the tiny synthetic set (32x32, 4 training pairs)."""

    def make() -> SyntheticDataModule:
        return SyntheticDataModule(
            root=str(synthetic_root),
            image_size=TINY_SPEC.image_size,
            n_train=TINY_SPEC.n_train,
            n_test=TINY_SPEC.n_test,
            load_size=32,
            crop_size=32,
            val_batch_size=2,
            num_workers=0,
        )

    return make


@pytest.fixture
def fit(
    tmp_path: Path, tiny_data: Callable[[], SyntheticDataModule]
) -> Iterator[Callable[..., L.Trainer]]:
    """Factory: ``fit(model, callbacks, max_epochs=2, ckpt_path=None)`` trains ``model`` on the
    tiny set on the CPU, with our checkpoint I/O, and returns the trainer. Runs on one thread:
    for networks this small, more threads cost more than they bring (several times the time on
    a busy machine)."""

    def run(
        model: CycleGAN,
        callbacks: Sequence[Callback] = (),
        max_epochs: int = 2,
        ckpt_path: Path | None = None,
    ) -> L.Trainer:
        trainer = L.Trainer(
            accelerator="cpu",
            max_epochs=max_epochs,
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            enable_checkpointing=any(isinstance(c, Checkpoint) for c in callbacks),
            callbacks=list(callbacks),
            plugins=[SafeCheckpointIO()],
            default_root_dir=tmp_path,
        )
        trainer.fit(model, datamodule=tiny_data(), ckpt_path=ckpt_path)
        return trainer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield run
    torch.set_num_threads(threads)

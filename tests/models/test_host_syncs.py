"""No method's training step waits for the device: every method, trained through Lightning,
reads no tensor back to the host between the start and the end of a step (a GPU would stall
there). Reads of tensors that live on the CPU on every device (the history pools' draws, the
optimisers' step counters) wait for nothing and are allowed."""

from __future__ import annotations

import traceback
from typing import Any

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor
from torch.overrides import TorchFunctionMode
from torch.utils.data import DataLoader

from unpaired.config import config_dir, register_resolvers

#: Tensor methods that copy a value to the host, which waits for a GPU to finish its queue.
HOST_READS = {
    Tensor.item,
    Tensor.tolist,
    Tensor.numpy,
    Tensor.cpu,
    Tensor.__bool__,
    Tensor.__float__,
    Tensor.__int__,
    Tensor.__index__,
}
#: Callers that read tensors which live on the CPU on every device, so reading them waits for
#: nothing: the history pools' random draws and the optimisers' step counters.
CPU_BY_DESIGN = ("unpaired/utils/image_pool.py", "torch/optim/")


class RecordHostReads(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.callers: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in HOST_READS:
            frames = traceback.extract_stack()[:-1]
            caller = next(f for f in reversed(frames) if not _inside_torch_dispatch(f.filename))
            self.callers.append(f"{caller.filename}:{caller.lineno}")
        return func(*args, **(kwargs or {}))


def _inside_torch_dispatch(filename: str) -> bool:
    return filename.endswith(("torch/overrides.py", "torch/_tensor.py"))


class WatchSteps(L.Callback):
    """Records host reads from the start to the end of every training step."""

    def __init__(self) -> None:
        self.mode = RecordHostReads()

    def on_train_batch_start(self, *args: Any) -> None:
        self.mode.__enter__()

    def on_train_batch_end(self, *args: Any) -> None:
        self.mode.__exit__(None, None, None)


RESNET = ["model.generator.ngf=8", "model.generator.n_blocks=5", "model.discriminator.ndf=8"]
AUTOENCODER = ["model.generator.dim=8", "model.discriminator.dim=8"]
METHODS = {  # model -> (overrides, domains, image side)
    "cyclegan": (["model.pool_size=1", *RESNET], ["A", "B"], 32),  # full pools: they draw
    "cut": (RESNET, ["A", "B"], 32),
    "fastcut": (RESNET, ["A", "B"], 32),
    "pix2pix": (["model.generator.num_downs=5", "model.generator.ngf=8"], ["A", "B"], 32),
    "unit": (AUTOENCODER, ["A", "B"], 64),
    "munit": (AUTOENCODER, ["A", "B"], 64),
    "dcgan": (["model.generator.ngf=8", "model.discriminator.ndf=8"], ["B"], 64),
    "vae": (["model.encoder.ch=8", "data.crop_size=32"], ["B"], 32),
}


def host_reads(method: str, *more: str) -> list[str]:
    """The callers of host reads during the training steps of ``method`` (3 batches of 2),
    except those of :data:`CPU_BY_DESIGN`."""
    overrides, domains, side = METHODS[method]
    register_resolvers()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[f"model={method}", f"data.domains=[{','.join(domains)}]", *overrides, *more],
        )
    torch.manual_seed(0)
    module = instantiate(
        OmegaConf.to_container(cfg.model, resolve=True), _recursive_=False, _convert_="all"
    )
    generator = torch.Generator().manual_seed(1)
    items = [
        {name: torch.rand(3, side, side, generator=generator) * 2 - 1 for name in domains}
        for _ in range(6)
    ]
    watch = WatchSteps()
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        callbacks=[watch],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=DataLoader(items, batch_size=2))
    return [c for c in watch.mode.callers if not any(part in c for part in CPU_BY_DESIGN)]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_training_step_reads_nothing_back_from_the_device(method: str) -> None:
    assert host_reads(method) == []


def test_the_watch_sees_a_read_where_there_is_one() -> None:
    # without the fused optimiser the skip of a non-finite update is decided on the host
    reads = host_reads("cyclegan", "model.optimizer.fused=false")
    assert reads and all("unpaired/models/base.py" in caller for caller in reads)

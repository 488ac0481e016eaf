"""Speed never silently changes results: our training step, with the default speed options and
with the opt-in ones that exist on a CPU, gives the losses of the authors' plain eager fp32 step
(:class:`unpaired.bench.train.AuthorsCycleGAN`) on a fixed seed, and takes no host sync.

``AuthorsCycleGAN`` reproduces the authors' step with our networks, pool and initialisation, so
it shares their bugs; whether the step itself is the authors' is tested against their own
``CycleGANModel`` in test_golden_training.py.

Tolerances, relative, per loss. The first step starts from the same weights, so its losses differ
by float rounding only: 1e-5 (seen: 1.5e-7) for the fp32 paths (fused Adam, group-norm kernels
instead of instance_norm's, channels-last convolutions), 1e-2 for bf16 autocast (8-bit mantissas;
seen: 1.8e-3). Later steps add Adam's amplification of rounding: its first updates are about
lr * sign(gradient), so a gradient near zero that rounds the other way moves a weight by up to
2 * lr. Over four steps the fp32 paths stay within 3e-3 (seen: 5.7e-4 default, 1.5e-3
channels-last) and bf16 within 2e-2 (seen: 3.8e-3), while a real change fails: a learning rate
1.5x the authors' is off by 4e-2 on the second step already.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor
from torch.utils.data import DataLoader

from unpaired.bench.train import AuthorsCycleGAN
from unpaired.callbacks import SpeedOptions
from unpaired.models import CycleGAN

STEPS = 4
TINY = [
    "model.generator.ngf=8",
    "model.generator.n_blocks=2",
    "model.discriminator.ndf=8",
    "model.discriminator.n_layers=2",
    "model.pool_size=1",  # full from the second step on: the pools draw at random
]
LOSSES = ("G", "G_adv_AB", "G_adv_BA", "cycle_A", "cycle_B", "idt_A", "idt_B", "D", "D_A", "D_B")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Networks this small run fastest on one thread (several times faster on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def batches(n: int = STEPS, size: int = 32) -> list[dict[str, Tensor]]:
    generator = torch.Generator().manual_seed(7)
    return [
        {key: torch.rand(2, 3, size, size, generator=generator) * 2 - 1 for key in ("A", "B")}
        for _ in range(n)
    ]


def model_config(compose_train: Callable[..., Any], overrides: Sequence[str]) -> dict[str, Any]:
    cfg = compose_train([*TINY, *overrides])
    return OmegaConf.to_container(cfg.model, resolve=True)


class _RecordLosses(L.Callback):
    def __init__(self) -> None:
        self.losses: list[dict[str, float]] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        metrics = trainer.callback_metrics
        self.losses.append({name: float(metrics[f"train/{name}"]) for name in LOSSES})


def fit_ours(
    model: dict[str, Any], precision: str = "32-true", callbacks: Sequence[L.Callback] = ()
) -> tuple[CycleGAN, list[dict[str, float]]]:
    """Our module through ``Trainer.fit``, as ``unpaired-train`` runs it, on :func:`batches`."""
    torch.manual_seed(0)
    module = instantiate(model, _recursive_=False, _convert_="all")
    recorder = _RecordLosses()
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        precision=precision,
        logger=False,
        callbacks=[*callbacks, recorder],  # the recorder reads the losses after the others
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    # per-sample batches; the loader gets its own generator so that it leaves the global RNG,
    # which the history pools draw from, as the reference finds it
    data = [{key: images[i] for key, images in b.items()} for b in batches() for i in range(2)]
    loader = DataLoader(data, batch_size=2, generator=torch.Generator())
    torch.manual_seed(1)
    trainer.fit(module, train_dataloaders=loader)
    return module, recorder.losses


def reference_losses(model: dict[str, Any], initial: CycleGAN) -> list[dict[str, float]]:
    """The authors' step from the same initial weights on the same batches."""
    reference = AuthorsCycleGAN(model)
    reference.load_from(initial)
    torch.manual_seed(1)
    losses = []
    for batch in batches():
        losses.append({k: float(v) for k, v in reference.step(batch["A"], batch["B"]).items()})
    return losses


def initial_weights(model: dict[str, Any]) -> CycleGAN:
    torch.manual_seed(0)
    return instantiate(model, _recursive_=False, _convert_="all")


#: Relative tolerances (first step, later steps): see the module docstring.
FP32, BF16 = (1e-5, 3e-3), (1e-2, 2e-2)


def worst_differences(ours: list[dict[str, float]], reference: list[dict[str, float]]):
    """Per step, the largest relative difference of a loss."""
    assert len(ours) == len(reference) == STEPS
    return [
        max(abs(mine[name] - theirs[name]) / abs(theirs[name]) for name in LOSSES)
        for mine, theirs in zip(ours, reference, strict=True)
    ]


def assert_same_losses(
    ours: list[dict[str, float]], reference: list[dict[str, float]], tolerances: tuple[float, float]
) -> None:
    first, *later = worst_differences(ours, reference)
    assert first <= tolerances[0], first
    assert max(later) <= tolerances[1], later


def test_default_fast_path_gives_the_losses_of_the_plain_eager_step(compose_train):
    model = model_config(compose_train, [])
    assert model["optimizer"]["fused"] is True  # the default path under test
    _, ours = fit_ours(model)
    assert_same_losses(ours, reference_losses(model, initial_weights(model)), FP32)


def test_a_real_change_of_the_update_exceeds_the_tolerance(compose_train):
    model = model_config(compose_train, [])
    _, ours = fit_ours(model_config(compose_train, ["model.optimizer.lr=0.0003"]))
    first, second, *_ = worst_differences(ours, reference_losses(model, initial_weights(model)))
    assert first <= FP32[0]  # the same first losses: the change acts through the update
    assert second > 10 * FP32[1]


def test_channels_last_gives_the_same_losses(compose_train):
    model = model_config(compose_train, [])
    module, ours = fit_ours(model, callbacks=[SpeedOptions(channels_last=True)])
    assert module.G_AB.model[1].weight.is_contiguous(memory_format=torch.channels_last)
    assert_same_losses(ours, reference_losses(model, initial_weights(model)), FP32)


def test_bf16_autocast_on_cpu_stays_close_to_fp32(compose_train):
    model = model_config(compose_train, [])
    _, ours = fit_ours(model, precision="bf16-mixed")
    assert_same_losses(ours, reference_losses(model, initial_weights(model)), BF16)


@pytest.mark.slow
def test_compiled_networks_give_the_same_losses(compose_train):
    model = model_config(compose_train, [])
    module, ours = fit_ours(model, callbacks=[SpeedOptions(compile=True)])
    assert module.G_AB._compiled_call_impl is not None
    assert_same_losses(ours, reference_losses(model, initial_weights(model)), FP32)
    assert list(module.state_dict()) == list(initial_weights(model).state_dict())

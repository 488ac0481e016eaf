"""Our CycleGAN trains as the AUTHORS' CycleGANModel does: same losses at every step, same
weights after the last one.

``tests/golden/training/cyclegan_steps.safetensors`` holds what their ``optimize_parameters``
did in 4 steps (ResNet-6 generators, ngf = ndf = 8, batch 1, LSGAN, 50-image pools, identity
0.5, Adam 2e-4 (0.5, 0.999)) from seeded weights on seeded 32x32 images: every step's losses
and three checksums of each network's weights after the last step (tests/golden/README.md).
Here our module, built from our CycleGAN preset with the same generator and sizes (the rest is
the preset's) and given the same weights, runs the same 4 batches through ``Trainer.fit``, as
``unpaired-train`` does. The pools are still filling (4 of 50 images), so they return the
newest fakes and draw nothing at random.

Their names are not ours: their G_A maps A to B (our G_AB) and their D_A judges domain B (our
D_B); their idt_A is ||G_A(B) - B|| (our idt_B).

Tolerances, relative. Our instance norm runs torch's group-norm kernel on the CPU and our Adam
is the fused one, so the numbers differ by float rounding: first step 1e-5, later steps 1e-4
(seen: 2.7e-6 at most, over all steps); weight checksums 5e-4 (seen: 1e-8 for the sums and
norms, 2.6e-5 for the projections; the checksums leave out biases, see
``golden.weight_checksums``). Real changes of the update are far outside them (relative, at the
first step they show): a learning rate 3e-4 2.6e-2 (step 2), Adam's beta1 0.9 6.9e-3 (step 3),
the identity term of A through G_AB 5.4e-2, D_A judging against domain B 2.9e-2, the
discriminators updated first 8.2e-2, the discriminators not frozen in the generator step 5.4e-2
(step 2). What this cannot see: the pools' random draws once they are full (their pool draws
from Python's ``random``, ours from torch's), so a preset without pools passes here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

import golden  # tests/golden/golden.py (pytest puts tests/golden on the path)
from unpaired.models import CycleGAN

FIXTURE = golden.GOLDEN_DIR / "training" / "cyclegan_steps.safetensors"

#: Their network -> ours.
NETWORKS = {"G_A": "G_AB", "G_B": "G_BA", "D_A": "D_B", "D_B": "D_A"}
#: Their loss -> our logged loss.
LOSSES = {
    "G_A": "G_adv_AB",
    "G_B": "G_adv_BA",
    "cycle_A": "cycle_A",
    "cycle_B": "cycle_B",
    "idt_A": "idt_B",
    "idt_B": "idt_A",
    "D_A": "D_B",
    "D_B": "D_A",
}
FIRST_STEP, LATER_STEPS, CHECKSUMS = 1e-5, 1e-4, 5e-4


def load_fixture() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(FIXTURE), framework="pt") as file:
        meta = json.loads(file.metadata()["golden"])
    return meta, load_file(str(FIXTURE))


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def our_model(compose_train: Callable[..., Any], options: dict[str, Any]) -> CycleGAN:
    """Our CycleGAN preset, with only what their command line chose: the ResNet-6 generator and
    the widths. Everything else (losses and their weights, pools, optimiser, initialisation) is
    the preset's, which must be the authors' defaults."""
    assert options["netG"] == "resnet_6blocks" and options["netD"] == "basic"
    cfg = compose_train(
        [
            "model=cyclegan",
            "model/generator=resnet_6blocks",
            f"model.generator.ngf={options['ngf']}",
            f"model.discriminator.ndf={options['ndf']}",
        ]
    )
    model = OmegaConf.to_container(cfg.model, resolve=True)
    return instantiate(model, _recursive_=False, _convert_="all")


def seed_weights(module: CycleGAN, meta: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
    """Their seeded weights into our networks (same key names and shapes), by network; the
    initial state dicts, under their network names."""
    initial = {}
    for theirs, ours in NETWORKS.items():
        shapes = {key: tuple(shape) for key, shape in meta["keys"][theirs]}
        net = getattr(module, ours)
        state = net.state_dict()
        assert {k: tuple(v.shape) for k, v in state.items()} == shapes, theirs
        net.load_state_dict(golden.seeded_weights(shapes, meta["net_seeds"][theirs]), strict=True)
        initial[theirs] = {k: v.clone() for k, v in net.state_dict().items()}
    return initial


class _RecordLosses(L.Callback):
    def __init__(self) -> None:
        self.losses: list[dict[str, float]] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        metrics = trainer.callback_metrics
        self.losses.append({name: float(metrics[f"train/{name}"]) for name in LOSSES.values()})


def train(module: CycleGAN, meta: dict[str, Any]) -> list[dict[str, float]]:
    """Our module through ``Trainer.fit`` on their images, one batch of one image a step."""
    images = {
        name: golden.seeded_input(s["shape"], s["seed"]) for name, s in meta["inputs"].items()
    }
    data = [{"A": images[f"A{i}"][0], "B": images[f"B{i}"][0]} for i in range(meta["steps"])]
    recorder = _RecordLosses()
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        callbacks=[recorder],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=DataLoader(data, batch_size=1))
    return recorder.losses


def relative(mine: float, theirs: float) -> float:
    return abs(mine - theirs) / abs(theirs)


def test_training_steps_give_the_authors_losses_and_weights(compose_train) -> None:
    meta, tensors = load_fixture()
    options = meta["options"]
    module = our_model(compose_train, options)
    initial = seed_weights(module, meta)
    losses = train(module, meta)

    assert len(losses) == meta["steps"]
    expected = tensors["losses"]
    for step, mine in enumerate(losses):
        tolerance = FIRST_STEP if step == 0 else LATER_STEPS
        for column, name in enumerate(meta["loss_names"]):
            theirs = float(expected[step, column])
            difference = relative(mine[LOSSES[name]], theirs)
            assert difference <= tolerance, (
                f"step {step + 1}, their loss_{name} (our {LOSSES[name]}): "
                f"{mine[LOSSES[name]]} vs {theirs}, relative {difference:.2e}"
            )
    for theirs, ours in NETWORKS.items():
        final = getattr(module, ours).state_dict()
        checksums = golden.weight_checksums(initial[theirs], final, meta["checksum_seed"])
        for part, mine, value in zip(
            ("sum", "update norm", "update projection"),
            checksums.tolist(),
            tensors[f"checksum.{theirs}"].tolist(),
            strict=True,
        ):
            difference = relative(mine, value)
            assert difference <= CHECKSUMS, (
                f"their {theirs} (our {ours}) after {meta['steps']} steps, {part}: {mine} vs "
                f"{value}, relative {difference:.2e}"
            )

"""The core a method runs on: declared optimiser groups and steps, in order, each with only its
own networks trainable; per-group optimiser settings; schedulers; the run length; named outputs."""

import io
from collections.abc import Sequence

import lightning as L
import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from unpaired.errors import ConfigError
from unpaired.models import GenerativeModule, OptimizerGroup, TrainingStep
from unpaired.models.outputs import MissingOutputError, Outputs

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.1}


class ToyMethod(GenerativeModule):
    """Three 1x1-conv networks, ``G``, ``M`` (trained with G by an optimiser of its own) and
    ``D``, and the steps it is given; each loss records which networks were trainable."""

    def __init__(self, order: str = "GD", mapping_lr: float = 0.01, **common) -> None:
        super().__init__(**common)
        self.order = order
        self.mapping_lr = mapping_lr
        self.G = self.network(nn.Conv2d(1, 1, 1))
        self.M = self.network(nn.Conv2d(1, 1, 1))
        self.D = self.network(nn.Conv2d(1, 1, 1))
        self.events: list[tuple[str, tuple[bool, bool, bool]]] = []
        self.learning_rates: list[dict[str, float]] = []

    def optimizer_groups(self) -> Sequence[OptimizerGroup]:
        return (
            OptimizerGroup("G", ("G",)),
            OptimizerGroup("M", ("M",), {"lr": self.mapping_lr}),
            OptimizerGroup("D", ("D",)),
        )

    def training_steps(self) -> Sequence[TrainingStep]:
        steps = {
            "G": TrainingStep(("G", "M"), self.generator_loss),
            "D": TrainingStep(("D",), self.discriminator_loss),
        }
        return [steps[name] for name in self.order]

    def _record(self, step: str) -> None:
        trainable = tuple(net.weight.requires_grad for net in (self.G, self.M, self.D))
        self.events.append((step, trainable))

    def generate(self, batch):
        return {"fake_B": self.G(self.M(batch["A"]))}

    def generator_loss(self, batch, outputs):
        self._record("G")
        optimizers = self._optimizers_by_name().items()
        self.learning_rates.append({name: opt.param_groups[0]["lr"] for name, opt in optimizers})
        loss = (self.D(outputs["fake_B"]) - 1).pow(2).mean()
        return loss, {"G": loss}

    def discriminator_loss(self, batch, outputs):
        self._record("D")
        loss = (
            self.D(outputs["fake_B"].detach()).pow(2).mean()
            + (self.D(batch["B"]) - 1).pow(2).mean()
        )
        return loss, {"D": loss}

    def visuals(self, batch, outputs):
        return {"real_A": batch["A"], "fake_B": outputs["fake_B"]}

    def translate(self, images: Tensor, direction: str = "AtoB") -> Tensor:
        return self.G(self.M(images))


def toy_batches(n: int) -> DataLoader:
    data = [{"A": torch.randn(1, 4, 4), "B": torch.randn(1, 4, 4)} for _ in range(n)]
    return DataLoader(data, batch_size=1)


def fit(model: ToyMethod, batches: int = 3, epochs: int = 1) -> L.Trainer:
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_dataloaders=toy_batches(batches))
    return trainer


@pytest.mark.parametrize("order", ["GD", "DG", "DGD"])
def test_the_declared_steps_run_in_order_each_with_only_its_networks_trainable(order):
    model = ToyMethod(order=order, optimizer=ADAM)
    before = [net.weight.clone() for net in (model.G, model.M, model.D)]
    fit(model, batches=3)
    assert "".join(step for step, _ in model.events) == order * 3
    for step, trainable in model.events:
        assert trainable == ((True, True, False) if step == "G" else (False, False, True))
    assert all(net.weight.requires_grad for net in (model.G, model.M, model.D))  # restored
    for net, weight in zip((model.G, model.M, model.D), before, strict=True):
        assert not torch.equal(net.weight, weight)


def test_each_group_has_its_optimiser_with_its_own_settings():
    model = ToyMethod(optimizer=ADAM, mapping_lr=0.01)
    fit(model, batches=1)
    assert model.learning_rates == [{"G": 0.1, "M": 0.01, "D": 0.1}]
    # one step updates both of its optimisers: Adam's first update moves each weight by its lr
    model = ToyMethod(optimizer=ADAM, mapping_lr=0.01)
    start = {name: getattr(model, name).weight.clone() for name in "GM"}
    fit(model, batches=1)
    moved = {name: (getattr(model, name).weight - start[name]).abs().item() for name in "GM"}
    assert moved == pytest.approx({"G": 0.1, "M": 0.01}, rel=2e-2)  # up to Adam's eps


def test_epoch_schedulers_advance_once_per_epoch():
    scheduler = {
        "_target_": "unpaired.models.schedules.linear_decay",
        "_partial_": True,
        "n_epochs": 1,
        "n_epochs_decay": 1,
    }
    model = ToyMethod(optimizer=ADAM, scheduler=scheduler)
    fit(model, batches=2, epochs=2)
    # epoch 0 at the initial rate, epoch 1 at 1 - 1/2 of it, for every group
    assert [rates["G"] for rates in model.learning_rates] == pytest.approx([0.1, 0.1, 0.05, 0.05])
    assert [rates["M"] for rates in model.learning_rates][-1] == pytest.approx(0.005)


def test_step_schedulers_advance_after_every_batch():
    scheduler = {
        "_target_": "torch.optim.lr_scheduler.StepLR",
        "_partial_": True,
        "step_size": 1,
        "gamma": 0.5,
    }
    model = ToyMethod(optimizer=ADAM, scheduler=scheduler, scheduler_interval="step")
    fit(model, batches=3)
    assert [rates["G"] for rates in model.learning_rates] == pytest.approx([0.1, 0.05, 0.025])


def test_max_iterations_ends_the_run_after_that_many_batches():
    model = ToyMethod(optimizer=ADAM, max_iterations=2)
    trainer = fit(model, batches=5, epochs=3)
    assert len(model.events) == 2 * 2  # two batches of a G and a D step
    assert trainer.fit_loop.total_batch_idx == 1


def test_unknown_scheduler_interval_is_rejected():
    with pytest.raises(ValueError, match="scheduler_interval"):
        ToyMethod(optimizer=ADAM, scheduler_interval="batch")


def test_a_group_naming_a_network_the_method_lacks_is_an_error():
    model = ToyMethod(optimizer=ADAM)
    with pytest.raises(ConfigError, match="names networks it does not have: H"):
        model.networks_of(["G", "H"])


def test_an_output_that_was_not_produced_names_its_producer_and_what_it_holds():
    outputs = Outputs({"fake_B": torch.zeros(1)}, "CycleGAN.generate")
    message = r"CycleGAN\.generate produced no 'rec_A': it holds fake_B"
    with pytest.raises(MissingOutputError, match=message):
        outputs["rec_A"]


@pytest.mark.parametrize("name", ["Adam", "RAdam"])
def test_optimizer_state_holds_plain_values_that_weights_only_loading_accepts(name):
    # Hydra hands a list argument over as an omegaconf ListConfig: torch < 2.10 kept it as
    # Adam's betas (RAdam still does), and a checkpoint holding it cannot be loaded weights-only
    optimizer = {"_target_": f"torch.optim.{name}", "_partial_": True, "betas": [0.5, 0.999]}
    model = ToyMethod(optimizer=optimizer)
    for built in model.configure_optimizers()[0]:
        assert list(built.defaults["betas"]) == [0.5, 0.999]
        buffer = io.BytesIO()
        torch.save(built.state_dict(), buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=True)
        assert list(loaded["param_groups"][0]["betas"]) == [0.5, 0.999]

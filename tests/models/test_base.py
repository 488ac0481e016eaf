"""The manual-optimisation skeleton: order of the updates, which side is frozen, schedulers."""

import io
from collections.abc import Iterator

import lightning as L
import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from unpaired.models.base import GANModule

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.1}


class ToyGAN(GANModule):
    """1x1-conv generator and discriminator that record what the base did around each loss."""

    def __init__(self, discriminator_first: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.discriminator_first = discriminator_first
        self.G = nn.Conv2d(1, 1, 1)
        self.D = nn.Conv2d(1, 1, 1)
        self.events: list[tuple[str, bool, bool]] = []  # (step, G trainable, D trainable)
        self.learning_rates: list[float] = []

    def _record(self, step: str) -> None:
        self.events.append((step, self.G.weight.requires_grad, self.D.weight.requires_grad))

    def generator_parameters(self) -> Iterator[nn.Parameter]:
        return self.G.parameters()

    def discriminator_parameters(self) -> Iterator[nn.Parameter]:
        return self.D.parameters()

    def generate(self, batch):
        return {"fake_B": self.G(batch["A"])}

    def generator_loss(self, batch, outputs):
        self._record("G")
        self.learning_rates.append(self.optimizers()[0].param_groups[0]["lr"])
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
        return self.G(images)


def toy_batches(n: int) -> DataLoader:
    data = [{"A": torch.randn(1, 4, 4), "B": torch.randn(1, 4, 4)} for _ in range(n)]
    return DataLoader(data, batch_size=1)


def fit(model: ToyGAN, batches: int = 3, epochs: int = 1) -> None:
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_dataloaders=toy_batches(batches))


@pytest.mark.parametrize(("discriminator_first", "order"), [(False, "GD"), (True, "DG")])
def test_each_side_is_updated_once_per_batch_with_the_other_side_frozen(discriminator_first, order):
    model = ToyGAN(discriminator_first=discriminator_first, optimizer=ADAM)
    g_before, d_before = model.G.weight.clone(), model.D.weight.clone()
    fit(model, batches=3)
    assert "".join(step for step, _, _ in model.events) == order * 3
    for step, g_trainable, d_trainable in model.events:
        assert (g_trainable, d_trainable) == ((True, False) if step == "G" else (False, True))
    assert model.G.weight.requires_grad and model.D.weight.requires_grad  # restored afterwards
    assert not torch.equal(model.G.weight, g_before)
    assert not torch.equal(model.D.weight, d_before)


def test_epoch_schedulers_advance_once_per_epoch():
    scheduler = {
        "_target_": "unpaired.models.schedules.linear_decay",
        "_partial_": True,
        "n_epochs": 1,
        "n_epochs_decay": 1,
    }
    model = ToyGAN(optimizer=ADAM, scheduler=scheduler)
    fit(model, batches=2, epochs=2)
    # epoch 0 at the initial rate, epoch 1 at 1 - 1/2 of it
    assert model.learning_rates == pytest.approx([0.1, 0.1, 0.05, 0.05])


def test_step_schedulers_advance_after_every_batch():
    scheduler = {
        "_target_": "torch.optim.lr_scheduler.StepLR",
        "_partial_": True,
        "step_size": 1,
        "gamma": 0.5,
    }
    model = ToyGAN(optimizer=ADAM, scheduler=scheduler, scheduler_interval="step")
    fit(model, batches=3)
    assert model.learning_rates == pytest.approx([0.1, 0.05, 0.025])


def test_unknown_scheduler_interval_is_rejected():
    with pytest.raises(ValueError, match="scheduler_interval"):
        ToyGAN(optimizer=ADAM, scheduler_interval="batch")


@pytest.mark.parametrize("name", ["Adam", "RAdam"])
def test_optimizer_state_holds_plain_values_that_weights_only_loading_accepts(name):
    # Hydra hands a list argument over as an omegaconf ListConfig: torch < 2.10 kept it as
    # Adam's betas (RAdam still does), and a checkpoint holding it cannot be loaded weights-only
    optimizer = {"_target_": f"torch.optim.{name}", "_partial_": True, "betas": [0.5, 0.999]}
    model = ToyGAN(optimizer=optimizer)
    for built in model.configure_optimizers()[0]:
        assert list(built.defaults["betas"]) == [0.5, 0.999]
        buffer = io.BytesIO()
        torch.save(built.state_dict(), buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=True)
        assert list(loaded["param_groups"][0]["betas"]) == [0.5, 0.999]

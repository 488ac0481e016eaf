"""A two-domain method on domains with names of their own: batches, outputs, losses, visuals and
translations use the names; a model and data with other domains do not meet silently."""

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from unpaired.errors import ConfigError
from unpaired.models import CUT, MUNIT, UNIT, CycleGAN

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True}
RESNET = {"_target_": "unpaired.nn.ResnetGenerator", "ngf": 4, "n_blocks": 1}
PATCHGAN = {"_target_": "unpaired.nn.PatchGANDiscriminator", "ndf": 4, "n_layers": 2}


def named_batch(n: int = 1, size: int = 16) -> dict[str, torch.Tensor]:
    return {name: torch.rand(n, 3, size, size) * 2 - 1 for name in ("cat", "dog")}


def test_cyclegan_speaks_of_its_domains_by_name() -> None:
    model = CycleGAN(RESNET, PATCHGAN, optimizer=ADAM, domains=["cat", "dog"])
    batch = named_batch()
    outputs = model.generate(batch)
    assert set(outputs) == {"fake_dog", "rec_cat", "fake_cat", "rec_dog"}
    _, g_terms = model.generator_loss(batch, outputs)
    assert {"G_adv_cat_to_dog", "G_adv_dog_to_cat", "cycle_cat", "idt_dog"} <= set(g_terms)
    _, d_terms = model.discriminator_loss(batch, outputs)
    assert set(d_terms) == {"D", "D_cat", "D_dog"}
    assert list(model.visuals(batch, outputs)) == [
        "real_cat", "fake_dog", "rec_cat", "real_dog", "fake_cat", "rec_dog",
    ]  # fmt: skip
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.translate(batch["cat"], "cat_to_dog"), model.G_AB(batch["cat"]))
        assert torch.equal(model.translate(batch["dog"], "dog->cat"), model.G_BA(batch["dog"]))


@pytest.mark.parametrize("method", [UNIT, MUNIT])
def test_the_auto_encoder_methods_read_and_name_their_domains(method, compose_model) -> None:
    name = method.__name__.lower()
    node = compose_model(
        name,
        "model.generator.dim=8",
        "model.discriminator.dim=8",
        "model.discriminator.num_scales=1",
    )
    arguments = OmegaConf.to_container(node, resolve=True)
    arguments.pop("_target_")
    arguments["domains"] = ["cat", "dog"]
    model = method(**arguments)
    batch = named_batch(size=32)
    outputs = model.generate(batch)
    assert {"fake_cat", "fake_dog", "recon_cat", "recon_dog"} <= set(outputs)
    _, terms = model.generator_loss(batch, outputs)
    assert {"G_adv_cat_to_dog", "recon_x_cat", "recon_x_dog"} <= set(terms)
    model.eval()
    with torch.no_grad():
        assert model.translate(batch["cat"], "cat_to_dog").shape == batch["cat"].shape


def test_a_one_way_method_makes_its_one_named_translation() -> None:
    model = CUT(RESNET | {"n_blocks": 5}, PATCHGAN, optimizer=ADAM, domains=["dog", "cat"])
    assert [str(t) for t in model.translations] == ["dog_to_cat"]
    with pytest.raises(ConfigError, match="one-directional"):
        model.translate(torch.zeros(1, 3, 16, 16), "cat_to_dog")


def test_a_two_domain_method_refuses_three_domains() -> None:
    with pytest.raises(ConfigError, match=r"CycleGAN works with 2 domain\(s\).*data.domains"):
        CycleGAN(RESNET, PATCHGAN, optimizer=ADAM, domains=["cat", "dog", "wild"])


class NamedData(L.LightningDataModule):
    """Batches of the domains ``names``."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.domains = names

    def train_dataloader(self) -> DataLoader:
        item = {name: torch.rand(3, 16, 16) * 2 - 1 for name in self.domains}
        return DataLoader([item], batch_size=1)


def test_a_model_and_data_with_different_domains_stop_before_training() -> None:
    model = CycleGAN(RESNET, PATCHGAN, optimizer=ADAM)  # A and B
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False)
    with pytest.raises(ConfigError, match=r"built for the domains \['A', 'B'\].*\['cat', 'dog'\]"):
        trainer.fit(model, datamodule=NamedData(("cat", "dog")))

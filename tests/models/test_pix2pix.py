"""pix2pix: the authors' networks, conditional losses, update order and test-time behaviour."""

from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.utils.data import DataLoader

from unpaired.config import config_dir, register_resolvers
from unpaired.errors import ConfigError
from unpaired.losses import gradient_penalty
from unpaired.models import Pix2Pix
from unpaired.models.pix2pix import paper_inference

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-4, "betas": [0.5, 0.999]}
TINY_G = {
    "_target_": "unpaired.nn.UnetGenerator",
    "num_downs": 6,  # 64x64 inputs; one dropout block (dropout sits in num_downs - 5 blocks)
    "ngf": 4,
    "norm": "batch",
    "use_dropout": True,
}
TINY_D = {
    "_target_": "unpaired.nn.PatchGANDiscriminator",
    "input_nc": 6,
    "ndf": 4,
    "n_layers": 2,
    "norm": "batch",
}


def tiny_pix2pix(**overrides) -> Pix2Pix:
    return Pix2Pix(generator=TINY_G, discriminator=TINY_D, optimizer=ADAM, **overrides)


def batch(n: int = 2, size: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "A": torch.rand(n, 3, size, size, generator=g) * 2 - 1,
        "B": torch.rand(n, 3, size, size, generator=g) * 2 - 1,
    }


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def compose_train(*overrides: str) -> DictConfig:
    register_resolvers()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def test_config_builds_the_authors_networks_and_settings() -> None:
    cfg = compose_train("model=pix2pix", "data=synthetic_aligned")
    model = instantiate(cfg.model, _recursive_=False, _convert_="all")
    assert isinstance(model, Pix2Pix)
    assert count(model.G) == 54_413_955  # U-Net 256, batch norm, dropout
    assert sum(isinstance(m, nn.Dropout) for m in model.G.modules()) == 3
    assert count(model.D) == 2_768_705  # PatchGAN on 6 channels, batch norm
    assert model.D.model[0].in_channels == 6
    hp = model.hparams
    assert (hp.gan_mode, hp.lambda_L1) == ("vanilla", 100.0)
    assert (hp.init_type, hp.init_gain, hp.paper_inference) == ("normal", 0.02, True)
    assert [step.optimizers for step in model.training_steps()] == [("D",), ("G",)]
    assert cfg.trainer.max_epochs == 200
    assert tuple(model.configure_optimizers()[0][0].defaults["betas"]) == (0.5, 0.999)


def test_facades_preset() -> None:
    cfg = compose_train("experiment=pix2pix/facades")
    assert cfg.name == "pix2pix_facades"
    data = OmegaConf.to_container(cfg.data)
    assert data["_target_"] == "unpaired.data.aligned.AlignedDataModule"
    assert data["root"] == "${paths.data_dir}/facades_pix2pix"
    assert (data["direction"], data["load_size"], data["crop_size"], data["batch_size"]) == (
        "BtoA",
        286,
        256,
        1,
    )
    url = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
    assert url in data["download_hint"]
    m = cfg.model
    assert (m.generator.num_downs, m.generator.norm, m.generator.use_dropout) == (8, "batch", True)
    assert (m.discriminator.input_nc, m.discriminator.norm) == (6, "batch")
    assert (m.gan_mode, m.lambda_L1) == ("vanilla", 100.0)
    assert (m.scheduler.n_epochs, m.scheduler.n_epochs_decay) == (100, 100)
    assert cfg.trainer.max_epochs == 200


def test_generator_loss_is_conditional_vanilla_gan_plus_100_l1() -> None:
    torch.manual_seed(0)
    model = tiny_pix2pix()
    b = batch()
    outputs = model.generate(b)
    loss, terms = model.generator_loss(b, outputs)
    fake_B = outputs["fake_B"]
    logits = model.D(torch.cat([b["A"], fake_B], 1))
    gan = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    l1 = (fake_B - b["B"]).abs().mean() * 100
    assert terms["G_adv_AB"].item() == pytest.approx(gan.item(), rel=1e-5)
    assert terms["L1"].item() == pytest.approx(l1.item(), rel=1e-5)
    assert loss.item() == pytest.approx((gan + l1).item(), rel=1e-5)


def test_discriminator_judges_pairs_and_halves_its_loss() -> None:
    torch.manual_seed(0)
    model = tiny_pix2pix()
    b = batch()
    outputs = model.generate(b)
    loss, terms = model.discriminator_loss(b, outputs)
    real = model.D(torch.cat([b["A"], b["B"]], 1))
    fake = model.D(torch.cat([b["A"], outputs["fake_B"]], 1))
    expected = 0.5 * (
        F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
        + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert set(terms) == {"D", "D_real", "D_fake"}


def test_the_discriminator_steps_first_and_both_sides_learn() -> None:
    torch.manual_seed(0)
    model = tiny_pix2pix()
    calls: list[str] = []
    d_loss, g_loss = model.discriminator_loss, model.generator_loss
    model.discriminator_loss = lambda *a: (calls.append("D"), d_loss(*a))[1]
    model.generator_loss = lambda *a: (calls.append("G"), g_loss(*a))[1]
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    items = [{"A": b["A"][0], "B": b["B"][0]} for b in (batch(1, 64, s) for s in range(2))]
    trainer = L.Trainer(
        max_steps=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, train_dataloaders=DataLoader(items, batch_size=2))
    assert calls == ["D", "G"]
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    assert any(n.startswith("G.") for n in changed) and any(n.startswith("D.") for n in changed)


def test_paper_inference_keeps_dropout_and_normalises_each_image_alone() -> None:
    model = tiny_pix2pix().eval()
    stats = {k: v.clone() for k, v in model.G.state_dict().items() if "running" in k}
    x = batch(n=3)["A"]
    with torch.no_grad():
        first, second = model.translate(x), model.translate(x)
        assert not torch.equal(first, second)  # dropout is on: outputs are stochastic
        torch.manual_seed(7)
        together = model.translate(x)
        torch.manual_seed(7)
        alone = model.translate(x[:1])
    assert torch.allclose(together[:1], alone, atol=1e-6)  # batch mates do not matter
    assert all(torch.equal(v, model.G.state_dict()[k]) for k, v in stats.items())
    assert not model.G.training and not any(m.training for m in model.G.modules())


def test_standard_eval_mode_is_deterministic() -> None:
    model = tiny_pix2pix(paper_inference=False).eval()
    x = batch(n=2)["A"]
    with torch.no_grad():
        assert torch.equal(model.translate(x), model.translate(x))


def test_paper_inference_context_restores_batch_norm_tracking() -> None:
    net = nn.Sequential(nn.BatchNorm2d(3), nn.Dropout(0.5)).eval()
    with paper_inference(net):
        assert net[0].training and not net[0].track_running_stats and net[1].training
        net(torch.randn(2, 3, 4, 4))
    assert not net[0].training and net[0].track_running_stats and not net[1].training
    assert int(net[0].num_batches_tracked) == 0


def test_translate_is_a_to_b_only() -> None:
    model = tiny_pix2pix(paper_inference=False).eval()
    x = batch(n=1)["A"]
    assert torch.equal(model.translate(x), model.G(x))
    with pytest.raises(ConfigError, match="one-directional"):
        model.translate(x, "BtoA")


@pytest.fixture
def process_group(tmp_path):
    """A one-process gloo group, as DDP sets up: synchronised batch norm then tries to sync."""
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1
    )
    yield
    torch.distributed.destroy_process_group()


def test_paper_inference_normalises_each_image_alone_under_synchronised_batch_norm(
    process_group,
) -> None:
    # trainer.sync_batchnorm (conf/trainer/ddp.yaml) converts the batch norms; at test time each
    # image must still be normalised by its own statistics, on any device, with no collective
    plain = tiny_pix2pix().eval()
    synced = tiny_pix2pix().eval()
    synced.load_state_dict(plain.state_dict())
    synced.G = nn.SyncBatchNorm.convert_sync_batchnorm(synced.G)
    x = batch(n=2)["A"]
    with torch.no_grad():
        torch.manual_seed(3)
        expected = plain.translate(x)
        torch.manual_seed(3)
        translated = synced.translate(x)
    assert torch.equal(translated, expected)
    assert all(type(m) is not nn.BatchNorm2d for m in synced.G.modules())  # restored


def test_ddp_synchronises_batch_norm_where_torch_can() -> None:
    assert compose_train("trainer=ddp").trainer.sync_batchnorm is True
    assert compose_train("trainer=ddp_cpu").trainer.sync_batchnorm is False  # GPUs only


def test_wgangp_adds_the_gradient_penalty_on_pairs_to_the_discriminator_loss() -> None:
    model = tiny_pix2pix(gan_mode="wgangp", lambda_gp=5.0)  # not the default 10: it is passed
    b = batch()
    outputs = model.generate(b)
    torch.manual_seed(1)
    loss, terms = model.discriminator_loss(b, outputs)
    fake_AB = torch.cat([b["A"], outputs["fake_B"].detach()], 1)
    real_AB = torch.cat([b["A"], b["B"]], 1)
    torch.manual_seed(1)  # the same interpolation weights
    penalty = gradient_penalty(model.D, real_AB, fake_AB, 5.0)
    critic = 0.5 * (-model.D(real_AB).mean() + model.D(fake_AB).mean())
    assert penalty.item() > 0.1
    assert terms["D_gp"].item() == pytest.approx(penalty.item(), rel=1e-5)
    assert loss.item() == pytest.approx((critic + penalty).item(), rel=1e-5)


def test_the_logged_generator_total_is_g() -> None:
    model = tiny_pix2pix()
    b = batch()
    loss, terms = model.generator_loss(b, model.generate(b))
    assert terms["G"] is loss


def test_grid_shows_input_output_and_ground_truth() -> None:
    images = batch()
    fake = torch.zeros_like(images["B"])
    columns = tiny_pix2pix().visuals(images, {"fake_B": fake})
    assert list(columns) == ["real_A", "fake_B", "real_B"]
    assert columns["real_A"] is images["A"] and columns["fake_B"] is fake
    assert columns["real_B"] is images["B"]

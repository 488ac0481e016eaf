"""DCGAN: the networks and settings of pytorch/examples' dcgan/main.py, its training step by
hand, and noise-to-image sampling on one domain."""

import pytest
import torch
import torch.nn.functional as F

from unpaired.models.dcgan import DCGAN

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-4, "betas": [0.5, 0.999]}
G = {"_target_": "unpaired.nn.dcgan.DCGANGenerator", "nz": 8, "ngf": 4}
D = {"_target_": "unpaired.nn.dcgan.DCGANDiscriminator", "ndf": 4}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_the_config_builds_the_authors_networks_and_settings(build_model, compose_model) -> None:
    model = build_model("dcgan", "data.domains=[B]")
    assert (count(model.G), count(model.D)) == (3_576_704, 2_765_568)  # nz 100, ngf = ndf = 64
    assert model.domains == ("B",) and model.translations == ()
    assert model.hparams.gan_mode == "vanilla"
    [optimizer_g, optimizer_d], _ = model.configure_optimizers()
    assert optimizer_g.defaults["lr"] == optimizer_d.defaults["lr"] == 2e-4
    assert tuple(optimizer_g.defaults["betas"]) == (0.5, 0.999)
    node = compose_model("dcgan")
    assert node.scheduler.n_epochs == 25 and node.scheduler.n_epochs_decay == 0  # 25 epochs
    batch_norm = model.G.main[1]
    assert abs(batch_norm.weight.mean().item() - 1) < 0.01  # N(1, 0.02)
    assert abs(model.G.main[0].weight.std().item() - 0.02) < 0.002  # N(0, 0.02)


def tiny() -> DCGAN:
    torch.manual_seed(0)
    return DCGAN(G, D, optimizer=ADAM, domains=["B"])


def test_the_discriminator_sums_bce_on_real_and_fake_and_the_generator_is_non_saturating():
    model = tiny()
    batch = {"B": torch.rand(3, 3, 64, 64) * 2 - 1}
    outputs = model.generate(batch)
    assert outputs["fake"].shape == (3, 3, 64, 64)
    d_loss, d_terms = model.discriminator_loss(batch, outputs)
    real, fake = model.D(batch["B"]), model.D(outputs["fake"].detach())
    expected_real = F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
    expected_fake = F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    assert d_loss.item() == pytest.approx((expected_real + expected_fake).item(), rel=1e-5)
    assert d_terms["D_real"].item() == pytest.approx(expected_real.item(), rel=1e-5)
    g_loss, _ = model.generator_loss(batch, outputs)
    on_fake = model.D(outputs["fake"])
    expected = F.binary_cross_entropy_with_logits(on_fake, torch.ones_like(on_fake))
    assert g_loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert [step.optimizers for step in model.training_steps()] == [("D",), ("G",)]


def test_training_draws_new_noise_and_validation_shows_the_fixed_samples() -> None:
    model = tiny()
    batch = {"B": torch.zeros(2, 3, 64, 64)}
    with torch.no_grad():
        first, second = model.generate(batch)["fake"], model.generate(batch)["fake"]
        assert not torch.equal(first, second)
        model.eval()
        fixed = model.generate(batch)["fake"]
        assert torch.equal(fixed, model.generate(batch)["fake"])
        assert torch.equal(fixed, model.G(model.fixed_noise[:2]))
        larger = model.generate({"B": torch.zeros(20, 3, 64, 64)})["fake"]  # 16 fixed, repeated
        assert torch.equal(larger[16:], fixed.new_tensor(larger[:4]))
        samples = model.sample(5, torch.Generator().manual_seed(1))
    assert samples.shape == (5, 3, 64, 64) and samples.abs().max() <= 1
    assert list(model.visuals(batch, {"fake": fixed})) == ["real_B", "sample"]


def test_it_is_a_one_domain_model() -> None:
    from unpaired.errors import ConfigError

    with pytest.raises(ConfigError, match=r"DCGAN works with 1 domain\(s\)"):
        DCGAN(G, D, optimizer=ADAM, domains=["A", "B"])
    with pytest.raises(ConfigError, match="makes no translations"):
        tiny().translate(torch.zeros(1, 3, 64, 64))

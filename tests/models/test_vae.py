"""The convolutional VAE: its loss by hand, the reparameterisation, sampling from the prior."""

import math

import pytest
import torch

from unpaired.errors import ConfigError
from unpaired.models.vae import VAE, gaussian_kl

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
ENCODER = {"_target_": "unpaired.nn.vae.VAEEncoder", "ch": 4, "latent_dim": 6, "image_size": 32}
DECODER = {"_target_": "unpaired.nn.vae.VAEDecoder", "ch": 4, "latent_dim": 6, "image_size": 32}


def tiny(**overrides) -> VAE:
    torch.manual_seed(0)
    return VAE(ENCODER, DECODER, optimizer=ADAM, domains=["B"], **overrides)


def test_the_kl_divergence_to_the_prior_by_hand() -> None:
    mean = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    log_variance = torch.tensor([[0.0, 0.0], [0.0, math.log(4.0)]])
    # 0.5 * sum(mean^2 + var - 1 - log var) per item
    expected = torch.tensor([0.5 * 1.0, 0.5 * (4.0 + (4.0 - 1.0 - math.log(4.0)))])
    torch.testing.assert_close(gaussian_kl(mean, log_variance), expected)


def test_the_loss_is_the_summed_squared_error_plus_the_weighted_kl_per_image() -> None:
    model = tiny(kl_weight=0.5)
    batch = {"B": torch.rand(3, 3, 32, 32) * 2 - 1}
    outputs = model.generate(batch)
    loss, terms = model.loss(batch, outputs)
    error = ((outputs["recon"] - batch["B"]) ** 2).sum() / 3
    kl = gaussian_kl(outputs["mean"], outputs["log_variance"]).mean()
    assert terms["recon"].item() == pytest.approx(error.item(), rel=1e-5)
    assert loss.item() == pytest.approx((error + 0.5 * kl).item(), rel=1e-5)
    assert [step.optimizers for step in model.training_steps()] == [("VAE",)]


def test_training_samples_the_code_and_evaluation_decodes_its_mean() -> None:
    model = tiny()
    batch = {"B": torch.rand(2, 3, 32, 32) * 2 - 1}
    with torch.no_grad():
        model.eval()
        outputs = model.generate(batch)
        assert torch.equal(outputs["recon"], model.decoder(outputs["mean"]))
        model.train()
        trained = model.generate(batch)
        assert not torch.allclose(trained["recon"], model.decoder(trained["mean"]))
        model.eval()
        visuals = model.visuals(batch, outputs)
        assert list(visuals) == ["real_B", "recon", "sample"]
        assert torch.equal(visuals["sample"], model.decoder(model.fixed_codes[:2]))
        assert model.sample(4).shape == (4, 3, 32, 32)


def test_image_sides_must_halve_four_times() -> None:
    with pytest.raises(ConfigError, match="image_size=40 must be a multiple of 16"):
        VAE({**ENCODER, "image_size": 40}, DECODER, optimizer=ADAM)


def test_the_config_builds_one_optimiser_over_both_networks(build_model) -> None:
    model = build_model("vae", "data.domains=[B]")
    [optimizer], _ = model.configure_optimizers()
    parameters = sum(p.numel() for group in optimizer.param_groups for p in group["params"])
    assert parameters == sum(p.numel() for p in model.parameters())
    assert model.decoder.latent_dim == model.encoder.latent_dim == 128

"""CycleGAN: the authors' networks, loss terms and weights, pools, directions."""

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from unpaired.errors import ConfigError
from unpaired.losses import gradient_penalty
from unpaired.models import CycleGAN

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-4, "betas": [0.5, 0.999]}
TINY_G = {"_target_": "unpaired.nn.ResnetGenerator", "ngf": 4, "n_blocks": 1}
TINY_D = {"_target_": "unpaired.nn.PatchGANDiscriminator", "ndf": 4, "n_layers": 2}


def tiny_cyclegan(**overrides) -> CycleGAN:
    return CycleGAN(generator=TINY_G, discriminator=TINY_D, optimizer=ADAM, **overrides)


def batch(n: int = 2, size: int = 16) -> dict[str, torch.Tensor]:
    return {"A": torch.rand(n, 3, size, size) * 2 - 1, "B": torch.rand(n, 3, size, size) * 2 - 1}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_config_builds_the_authors_networks(compose_train):
    cfg = compose_train()
    model = instantiate(cfg.model, _recursive_=False, _convert_="all")
    assert [count(m) for m in (model.G_AB, model.G_BA)] == [11_378_179] * 2
    assert [count(m) for m in (model.D_A, model.D_B)] == [2_764_737] * 2
    hp = model.hparams
    assert (hp.gan_mode, hp.lambda_A, hp.lambda_B, hp.lambda_identity, hp.pool_size) == (
        "lsgan",
        10.0,
        10.0,
        0.5,
        50,
    )
    assert cfg.trainer.max_epochs == 200


def test_weights_are_initialised_normal_002():
    model = CycleGAN(
        generator={"_target_": "unpaired.nn.ResnetGenerator", "ngf": 16, "n_blocks": 2},
        discriminator=TINY_D,
        optimizer=ADAM,
    )
    conv = model.G_AB.model[1]
    assert conv.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert conv.bias.abs().max().item() == 0


def test_generator_loss_terms_match_a_hand_computation():
    torch.manual_seed(0)
    model = tiny_cyclegan(lambda_A=10.0, lambda_B=7.0, lambda_identity=0.5)
    b = batch()
    outputs = model.generate(b)
    loss, terms = model.generator_loss(b, outputs)

    fake_B, fake_A = model.G_AB(b["A"]), model.G_BA(b["B"])
    expected = {
        "G_adv_AB": F.mse_loss(model.D_B(fake_B), torch.ones_like(model.D_B(fake_B))),
        "G_adv_BA": F.mse_loss(model.D_A(fake_A), torch.ones_like(model.D_A(fake_A))),
        "cycle_A": 10.0 * (model.G_BA(fake_B) - b["A"]).abs().mean(),
        "cycle_B": 7.0 * (model.G_AB(fake_A) - b["B"]).abs().mean(),
        # the generator into A must leave A images unchanged, weighted lambda_A x 0.5
        "idt_A": 5.0 * (model.G_BA(b["A"]) - b["A"]).abs().mean(),
        "idt_B": 3.5 * (model.G_AB(b["B"]) - b["B"]).abs().mean(),
    }
    for name, value in expected.items():
        assert terms[name].item() == pytest.approx(value.item(), rel=1e-5), name
    assert loss.item() == pytest.approx(sum(v.item() for v in expected.values()), rel=1e-5)
    assert terms["G"] is loss


def test_identity_loss_is_off_at_zero_weight():
    model = tiny_cyclegan(lambda_identity=0.0)
    b = batch()
    _, terms = model.generator_loss(b, model.generate(b))
    assert "idt_A" not in terms and "idt_B" not in terms


def test_discriminator_loss_halves_real_plus_fake_and_uses_the_pool_only_in_training():
    torch.manual_seed(0)
    model = tiny_cyclegan(pool_size=50).eval()
    b = batch()
    outputs = model.generate(b)
    loss, terms = model.discriminator_loss(b, outputs)

    def half_lsgan(d, real, fake):
        return 0.5 * ((d(real) - 1).pow(2).mean() + d(fake).pow(2).mean())

    assert terms["D_A"].item() == pytest.approx(
        half_lsgan(model.D_A, b["A"], outputs["fake_A"]).item(), rel=1e-5
    )
    assert terms["D_B"].item() == pytest.approx(
        half_lsgan(model.D_B, b["B"], outputs["fake_B"]).item(), rel=1e-5
    )
    assert loss.item() == pytest.approx(terms["D_A"].item() + terms["D_B"].item())
    assert len(model.pool_A.images) == 0  # evaluation leaves the history alone

    model.train()
    model.discriminator_loss(b, outputs)
    assert len(model.pool_A.images) == len(model.pool_B.images) == 2


def test_wgangp_adds_a_gradient_penalty_to_each_discriminator():
    model = tiny_cyclegan(gan_mode="wgangp", lambda_gp=5.0, pool_size=0)  # not the default 10
    b = batch()
    outputs = model.generate(b)
    torch.manual_seed(1)
    _, terms = model.discriminator_loss(b, outputs)
    torch.manual_seed(1)
    fake_A = outputs["fake_A"].detach()
    expected = 0.5 * (-model.D_A(b["A"]).mean() + model.D_A(fake_A).mean()) + gradient_penalty(
        model.D_A, b["A"], fake_A, 5.0
    )
    assert terms["D_A"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_checkpoint_names_the_class_that_wrote_it():
    checkpoint: dict = {}
    tiny_cyclegan().on_save_checkpoint(checkpoint)
    assert checkpoint["model_target"] == "unpaired.models.cyclegan.CycleGAN"


def test_discriminator_loss_does_not_reach_the_generators():
    model = tiny_cyclegan()
    b = batch()
    loss, _ = model.discriminator_loss(b, model.generate(b))
    loss.backward()
    assert all(p.grad is None for p in model.generator_parameters())


def test_translate_uses_the_generator_of_the_direction():
    model = tiny_cyclegan().eval()
    x = batch()["A"]
    assert torch.equal(model.translate(x, "AtoB"), model.G_AB(x))
    assert torch.equal(model.translate(x, "BtoA"), model.G_BA(x))
    assert torch.equal(model.translate(x, "A->B"), model.G_AB(x))
    assert torch.equal(model.translate(x), model.G_AB(x))  # the first translation it makes
    with pytest.raises(ConfigError, match=r"direction=AB is not a translation .* AtoB, BtoA"):
        model.translate(x, "AB")


def test_history_pools_travel_with_the_checkpoint():
    model = tiny_cyclegan()
    model.discriminator_loss(batch(3), model.generate(batch(3)))
    checkpoint: dict = {}
    model.on_save_checkpoint(checkpoint)
    restored = tiny_cyclegan()
    restored.on_load_checkpoint(checkpoint)
    assert len(restored.pool_B.images) == 3
    assert torch.equal(restored.pool_B.images[0], model.pool_B.images[0])


def test_restored_history_pools_follow_the_model_when_it_moves_after_the_restore():
    # Lightning restores a checkpoint into the model on the CPU, then moves the model to its
    # device; a move to float64 stands in for the move to a GPU, which CI does not have.
    model = tiny_cyclegan(pool_size=3)
    model.discriminator_loss(batch(3), model.generate(batch(3)))
    checkpoint: dict = {}
    model.on_save_checkpoint(checkpoint)
    restored = tiny_cyclegan(pool_size=3)
    restored.on_load_checkpoint(checkpoint)
    restored.to(torch.float64)
    assert {image.dtype for image in restored.pool_A.images + restored.pool_B.images} == {
        torch.float64
    }
    torch.manual_seed(0)  # the pools are full: half of the fakes come from them
    b = {name: images.double() for name, images in batch(4).items()}
    loss, _ = restored.discriminator_loss(b, restored.generate(b))
    assert loss.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_run_resumed_on_a_gpu_draws_its_history_from_the_gpu(
    tmp_path, sgd_cyclegan, fixed_batches, fit_one_epoch
):
    first = fit_one_epoch(sgd_cyclegan(pool_size=2), fixed_batches(4, 1))  # on the CPU
    path = tmp_path / "cpu.ckpt"
    first.save_checkpoint(path)
    model = sgd_cyclegan(pool_size=2)
    resumed = L.Trainer(
        accelerator="gpu",
        devices=1,
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    resumed.fit(model, train_dataloaders=fixed_batches(4, 1), ckpt_path=path)
    assert resumed.global_step == 2 * 2 * 4
    assert {image.device.type for image in model.pool_A.images} == {"cuda"}


def test_validation_measures_the_gradient_penalty_without_moving_the_random_stream():
    model = tiny_cyclegan(gan_mode="wgangp").eval()
    b = batch()
    state = torch.get_rng_state()
    with torch.inference_mode():  # as Lightning validates
        model.validation_step(b, 0)
    assert torch.equal(torch.get_rng_state(), state)

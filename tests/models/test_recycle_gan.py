"""Recycle-GAN: the authors' networks and settings, every loss by hand, ReCycle-GAN's terms."""

import pytest
import torch
import torch.nn.functional as F

from unpaired.errors import ConfigError
from unpaired.inference.load import size_multiple
from unpaired.models.recycle_gan import RecycleGAN

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-4, "betas": [0.5, 0.999]}
G = {"_target_": "unpaired.nn.ResnetGenerator", "ngf": 4, "n_blocks": 1}
D = {"_target_": "unpaired.nn.PatchGANDiscriminator", "ndf": 4, "n_layers": 2}
P = {"_target_": "unpaired.nn.prediction.StackedFramesUnet", "ngf": 4, "num_downs": 5}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_the_config_builds_the_authors_networks_and_settings(build_model) -> None:
    model = build_model("recycle_gan")
    # the authors' networks.print_network for run_Recycle_gan.sh's options (counted by running
    # their define_G / define_D): resnet_6blocks, unet_256 on 6 channels, basic PatchGAN
    counts = {name: count(getattr(model, name)) for name in ("G_AB", "P_A", "D_A")}
    assert counts == {"G_AB": 7_837_699, "P_A": 54_412_675, "D_A": 2_764_737}
    assert count(model) == 130_030_222
    hp = model.hparams
    assert (hp.lambda_A, hp.lambda_B, hp.lambda_identity, hp.pool_size) == (10, 10, 0, 0)
    assert (hp.gan_mode, hp.image_cycle) == ("lsgan", False)
    optimizer_g, optimizer_d = model.configure_optimizers()[0]
    assert optimizer_g.defaults["lr"] == 2e-4 and tuple(optimizer_g.defaults["betas"]) == (
        0.5,
        0.999,
    )
    trained_by_g = {id(p) for group in optimizer_g.param_groups for p in group["params"]}
    assert all(id(p) in trained_by_g for p in model.P_B.parameters())  # G's Adam has P too
    assert sum(p.numel() for g in optimizer_d.param_groups for p in g["params"]) == 2 * 2_764_737


def test_the_two_view_predictor_has_the_authors_size_at_npf_8(compose_model) -> None:
    from hydra.utils import instantiate

    with torch.device("meta"):
        predictor = instantiate(
            compose_model("recycle_gan", "model/predictor=prediction").predictor
        )
    assert count(predictor) == 117_199_267  # their define_G(3, 3, 8, 'prediction')


def tiny(**options) -> RecycleGAN:
    torch.manual_seed(0)
    return RecycleGAN(G, D, P, optimizer=ADAM, **options)


def clips(seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {d: torch.rand(2, 3, 3, 32, 32, generator=generator) * 2 - 1 for d in ("A", "B")}


def lsgan_real(prediction: torch.Tensor) -> torch.Tensor:
    return ((prediction - 1) ** 2).mean()


def test_the_generator_loss_is_the_authors_sum_of_adversarial_recurrent_and_recycle_terms():
    model = tiny()
    batch = clips(1)
    loss, terms = model.generator_loss(batch, model.generate(batch))
    expected = {}
    for x, y, g, back, p_x, p_y, d_y in (
        ("A", "B", model.G_AB, model.G_BA, model.P_A, model.P_B, model.D_B),
        ("B", "A", model.G_BA, model.G_AB, model.P_B, model.P_A, model.D_A),
    ):
        real = batch[x]
        fake0, fake1 = g(real[:, 0]), g(real[:, 1])
        predicted = p_y(torch.cat([fake0, fake1], 1))
        expected[f"G_adv_{x}{y}"] = sum(lsgan_real(d_y(i)) for i in (fake0, fake1, predicted))
        expected[f"recycle_{x}"] = 10 * (back(predicted) - real[:, 2]).abs().mean()
        expected[f"recurrent_{x}"] = (
            10 * (p_x(torch.cat([real[:, 0], real[:, 1]], 1)) - real[:, 2]).abs().mean()
        )
    assert set(terms) == {"G", *expected}
    for name, value in expected.items():
        assert terms[name].item() == pytest.approx(value.item(), rel=1e-5), name
    assert loss.item() == pytest.approx(sum(v.item() for v in expected.values()), rel=1e-5)


def test_recycle_adds_image_cycles_and_identity_and_prediction_adversarial_is_optional():
    model = tiny(image_cycle=True, lambda_identity=0.5, adversarial_prediction=True)
    batch = clips(2)
    _, terms = model.generator_loss(batch, model.generate(batch))
    a = batch["A"]
    cycle = sum(F.l1_loss(model.G_BA(model.G_AB(a[:, t])), a[:, t]) for t in (0, 1))
    identity = sum(F.l1_loss(model.G_BA(a[:, t]), a[:, t]) for t in (0, 1))
    pred_adv = lsgan_real(model.D_A(model.P_A(torch.cat([a[:, 0], a[:, 1]], 1))))
    assert terms["cycle_A"].item() == pytest.approx(10 * cycle.item(), rel=1e-5)
    assert terms["idt_A"].item() == pytest.approx(5 * identity.item(), rel=1e-5)
    assert terms["pred_adv_A"].item() == pytest.approx(pred_adv.item(), rel=1e-5)
    assert {"cycle_B", "idt_B", "pred_adv_B"} <= set(terms)


def test_each_discriminator_sums_four_halved_lsgan_terms_on_translated_and_predicted_frames():
    model = tiny().eval()  # no pools either way (pool_size 0)
    batch = clips(3)
    outputs = model.generate(batch)
    loss, terms = model.discriminator_loss(batch, outputs)
    b, a = batch["B"], batch["A"]
    fake0, fake1 = model.G_AB(a[:, 0]), model.G_AB(a[:, 1])
    fakes = [
        fake0,
        fake1,
        model.P_B(torch.cat([fake0, fake1], 1)),
        model.P_B(torch.cat([b[:, 0], b[:, 1]], 1)),
    ]
    reals = [b[:, 0], b[:, 1], b[:, 2], b[:, 2]]
    expected_b = sum(
        0.5 * (lsgan_real(model.D_B(r)) + (model.D_B(f) ** 2).mean())
        for r, f in zip(reals, fakes, strict=True)
    )
    assert terms["D_B"].item() == pytest.approx(expected_b.item(), rel=1e-5)
    assert loss.item() == pytest.approx((terms["D_A"] + terms["D_B"]).item(), rel=1e-6)


def test_translation_is_frame_by_frame_and_image_batches_are_refused_for_training():
    model = tiny().eval()
    clip = clips(4)["A"]
    with torch.no_grad():
        translated = model.translate(clip, "AtoB")
        torch.testing.assert_close(translated[:, 1], model.G_AB(clip[:, 1]))
        torch.testing.assert_close(model.translate(clip[:, 0], "BtoA"), model.G_BA(clip[:, 0]))
    assert size_multiple(model) == 4  # the ResNet generators', not the predictors' 32
    with pytest.raises(ConfigError, match="windows of 3 frames"):
        model.generate({"A": clip[:, 0], "B": clip[:, 0]})

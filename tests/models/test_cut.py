"""CUT and FastCUT: the authors' networks, settings, losses and update order."""

from __future__ import annotations

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader

from unpaired.config import config_dir, register_resolvers
from unpaired.errors import ConfigError
from unpaired.losses import gradient_penalty
from unpaired.models import CUT
from unpaired.nn import Downsample, PatchSampleMLP, Upsample

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 2e-4, "betas": [0.5, 0.999]}
# 5 residual blocks keep indices 12 and 16 on blocks 1 and 5, as in ResNet-9
TINY_G = {
    "_target_": "unpaired.nn.ResnetGenerator",
    "ngf": 4,
    "n_blocks": 5,
    "antialias": True,
    "antialias_up": True,
}
TINY_D = {
    "_target_": "unpaired.nn.PatchGANDiscriminator",
    "ndf": 4,
    "n_layers": 2,
    "antialias": True,
}


def tiny_cut(**overrides) -> CUT:
    return CUT(generator=TINY_G, discriminator=TINY_D, optimizer=ADAM, **overrides)


def batch(n: int = 2, size: int = 16, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "A": torch.rand(n, 3, size, size, generator=g) * 2 - 1,
        "B": torch.rand(n, 3, size, size, generator=g) * 2 - 1,
    }


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def compose_train(*overrides: str) -> DictConfig:
    register_resolvers()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def fit_one_step(model: L.LightningModule, n: int = 1, size: int = 16) -> None:
    items = [{"A": b["A"][0], "B": b["B"][0]} for b in (batch(1, size, s) for s in range(n))]
    trainer = L.Trainer(
        max_steps=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, train_dataloaders=DataLoader(items, batch_size=n))


# ----------------------------------------------------------------------------- configuration
def test_cut_config_builds_the_authors_networks_and_settings() -> None:
    cfg = compose_train("model=cut")
    model = instantiate(cfg.model, _recursive_=False, _convert_="all")
    assert isinstance(model, CUT)
    assert count(model.G) == 11_378_179
    assert count(model.D_B) == 2_764_737
    assert count(model.F) == 560_384  # MLP heads for 3, 128, 256, 256, 256 channels
    assert any(isinstance(m, Downsample) for m in model.G.modules())
    assert any(isinstance(m, Upsample) for m in model.G.modules())
    assert any(isinstance(m, Downsample) for m in model.D_B.modules())
    hp = model.hparams
    assert (hp.gan_mode, hp.lambda_GAN, hp.lambda_NCE, hp.nce_idt) == ("lsgan", 1.0, 1.0, True)
    assert (list(hp.nce_layers), hp.num_patches, hp.netF_nc, hp.nce_T) == (
        [0, 4, 8, 12, 16],
        256,
        256,
        0.07,
    )
    assert not hp.flip_equivariance and not hp.negatives_from_minibatch
    assert (hp.init_type, hp.init_gain) == ("xavier", 0.02)
    assert [step.optimizers for step in model.training_steps()] == [("D",), ("G",)]
    assert cfg.trainer.max_epochs == 400


def test_fastcut_config_changes_only_what_the_authors_change() -> None:
    cut = compose_train("model=cut").model
    fast = compose_train("model=fastcut").model
    assert (fast.lambda_NCE, fast.nce_idt, fast.flip_equivariance) == (10.0, False, True)
    assert (fast.scheduler.n_epochs, fast.scheduler.n_epochs_decay) == (150, 50)
    different = {k for k in cut if cut[k] != fast[k]}
    assert different == {"lambda_NCE", "nce_idt", "flip_equivariance", "scheduler"}
    assert compose_train("model=fastcut").trainer.max_epochs == 200


@pytest.mark.parametrize(
    ("preset", "lambda_nce", "idt", "flip", "epochs"),
    [
        ("cut/horse2zebra", 1.0, True, False, (200, 200)),
        ("fastcut/horse2zebra", 10.0, False, True, (150, 50)),
    ],
)
def test_horse2zebra_presets(preset, lambda_nce, idt, flip, epochs) -> None:
    cfg = compose_train(f"experiment={preset}")
    assert cfg.name == preset.replace("/", "_")  # the preset names the run folder
    assert OmegaConf.to_container(cfg.data)["root"] == "${paths.data_dir}/horse2zebra"
    assert (cfg.data.load_size, cfg.data.crop_size, cfg.data.batch_size) == (286, 256, 1)
    m = cfg.model
    assert (m.lambda_NCE, m.nce_idt, m.flip_equivariance) == (lambda_nce, idt, flip)
    assert (m.scheduler.n_epochs, m.scheduler.n_epochs_decay) == epochs
    assert m.generator.antialias and m.generator.antialias_up and m.discriminator.antialias
    assert m.optimizer.lr == 2e-4 and list(m.optimizer.betas) == [0.5, 0.999]
    assert cfg.trainer.max_epochs == sum(epochs)


# ----------------------------------------------------------------------- the MLP heads (F)
def test_heads_exist_before_training_and_the_generator_optimiser_holds_them() -> None:
    model = tiny_cut()
    assert isinstance(model.F, PatchSampleMLP)
    assert model.F.in_channels == [3, 8, 16, 16, 16]
    optimizer_g, optimizer_d = model.configure_optimizers()[0]
    g_params = {id(p) for group in optimizer_g.param_groups for p in group["params"]}
    assert {id(p) for p in model.F.parameters()} <= g_params
    assert {id(p) for p in model.G.parameters()} <= g_params
    d_params = {id(p) for group in optimizer_d.param_groups for p in group["params"]}
    assert d_params == {id(p) for p in model.D_B.parameters()}
    assert optimizer_g.defaults["lr"] == optimizer_d.defaults["lr"] == 2e-4


def test_heads_are_initialised_xavier_with_gain_002() -> None:
    model = CUT({**TINY_G, "ngf": 64}, TINY_D, optimizer=ADAM)
    linear = model.F.mlp_4[0]  # Linear(256, 256)
    expected_std = 0.02 * (2 / (256 + 256)) ** 0.5
    assert linear.weight.std().item() == pytest.approx(expected_std, rel=0.05)
    assert linear.bias.abs().max().item() == 0


def test_one_training_step_updates_the_heads_the_generator_and_the_discriminator() -> None:
    torch.manual_seed(0)
    model = tiny_cut()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    fit_one_step(model)
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p)}
    for prefix in ("F.mlp_0.", "F.mlp_4.", "G.", "D_B."):
        assert any(name.startswith(prefix) for name in changed), prefix
    assert {name for name in before if name.startswith("F.")} <= changed


def test_the_discriminator_steps_before_the_generator() -> None:
    model = tiny_cut()
    calls: list[str] = []
    d_loss, g_loss = model.discriminator_loss, model.generator_loss
    model.discriminator_loss = lambda *a: (calls.append("D"), d_loss(*a))[1]
    model.generator_loss = lambda *a: (calls.append("G"), g_loss(*a))[1]
    fit_one_step(model)
    assert calls == ["D", "G"]


def test_a_checkpoint_restores_the_heads() -> None:
    torch.manual_seed(0)
    trained = tiny_cut()
    torch.manual_seed(1)
    fresh = tiny_cut()
    fresh.load_state_dict(trained.state_dict())  # strict: the heads exist before any forward
    assert torch.equal(fresh.F.mlp_2[0].weight, trained.F.mlp_2[0].weight)


# --------------------------------------------------------------------------- generation
def test_cut_translates_a_and_b_in_one_forward_of_the_concatenated_batch() -> None:
    model = tiny_cut()
    forwards = []
    model.G.register_forward_hook(lambda m, i, o: forwards.append(i[0].shape[0]))
    b = batch(n=2)
    outputs = model.generate(b)
    assert forwards == [4]
    # instance norm works image by image: the halves are G(real_A) and G(real_B)
    assert torch.allclose(outputs["fake_B"], model.G(b["A"]), atol=1e-6)
    assert torch.allclose(outputs["idt_B"], model.G(b["B"]), atol=1e-6)
    assert "fake_A" not in outputs


def test_fastcut_flips_the_input_half_of_the_time_in_training_only() -> None:
    model = tiny_cut(nce_idt=False, flip_equivariance=True)
    b = batch(n=1, size=8)
    flips = []
    with torch.no_grad():
        for _ in range(64):
            model.generate(b)
            flips.append(model.flipped)
    assert 16 < sum(flips) < 48  # +- 4 standard deviations around 32
    torch.manual_seed(3)
    outputs = model.generate(b)
    while not model.flipped:
        outputs = model.generate(b)
    # the authors keep fake_B in the flipped orientation (D sees it so); visuals flip it back
    assert torch.allclose(outputs["fake_B"], model.G(torch.flip(b["A"], [3])), atol=1e-6)
    assert torch.allclose(model.visuals(b, outputs)["fake_B"], torch.flip(outputs["fake_B"], [3]))
    model.eval()
    for _ in range(20):
        model.generate(b)
        assert not model.flipped


def test_translate_is_a_to_b_only() -> None:
    model = tiny_cut().eval()
    x = batch(n=1)["A"]
    assert torch.equal(model.translate(x), model.G(x))
    with pytest.raises(ConfigError, match="it makes AtoB: it is one-directional"):
        model.translate(x, "BtoA")
    with pytest.raises(ConfigError, match="direction=sideways is not a translation"):
        model.translate(x, "sideways")


# ------------------------------------------------------------------------------- losses
def test_generator_loss_combines_gan_and_the_mean_of_both_nce_terms() -> None:
    torch.manual_seed(0)
    model = tiny_cut(lambda_GAN=2.0)
    b = batch()
    outputs = model.generate(b)
    loss, terms = model.generator_loss(b, outputs)
    prediction = model.D_B(outputs["fake_B"])
    gan = F.mse_loss(prediction, torch.ones_like(prediction)) * 2.0
    assert terms["G_adv_AB"].item() == pytest.approx(gan.item(), rel=1e-5)
    expected = terms["G_adv_AB"] + 0.5 * (terms["NCE"] + terms["NCE_idt"])
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert terms["G"] is loss


def test_a_zero_weight_leaves_its_term_out_of_the_generator_loss() -> None:
    b = batch()
    torch.manual_seed(0)
    no_nce = tiny_cut(lambda_NCE=0.0)
    loss, terms = no_nce.generator_loss(b, no_nce.generate(b))
    assert set(terms) == {"G", "G_adv_AB"}
    assert loss.item() == pytest.approx(terms["G_adv_AB"].item())
    torch.manual_seed(0)
    no_gan = tiny_cut(lambda_GAN=0.0)
    loss, terms = no_gan.generator_loss(b, no_gan.generate(b))
    assert set(terms) == {"G", "NCE", "NCE_idt"}
    assert loss.item() == pytest.approx((0.5 * (terms["NCE"] + terms["NCE_idt"])).item())


def test_fastcut_generator_loss_has_no_identity_term() -> None:
    model = tiny_cut(lambda_NCE=10.0, nce_idt=False, flip_equivariance=True)
    b = batch()
    loss, terms = model.generator_loss(b, model.generate(b))
    assert "NCE_idt" not in terms
    assert loss.item() == pytest.approx((terms["G_adv_AB"] + terms["NCE"]).item(), rel=1e-6)


def test_nce_is_lambda_times_the_layer_average_of_the_mean_patch_loss() -> None:
    model = tiny_cut(num_patches=8)
    b = batch()
    fake_B = model.generate(b)["fake_B"]
    torch.manual_seed(5)
    nce = model.nce_loss(b["A"], fake_B)
    # by hand: features of G's layers, the same 8 positions for keys and queries, PatchNCE
    torch.manual_seed(5)
    layers = model.G.model
    feat_k = [layers[: i + 1](b["A"]) for i in model.nce_layers]
    feat_q = [layers[: i + 1](fake_B) for i in model.nce_layers]
    keys, ids = model.F(feat_k, 8)
    queries, _ = model.F(feat_q, 8, ids)
    per_layer = [model.patch_nce(q, k, 2).mean() for q, k in zip(queries, keys, strict=True)]
    assert nce.item() == pytest.approx((sum(per_layer) / 5).item(), rel=1e-5)
    heavy = tiny_cut(num_patches=8, lambda_NCE=10.0)
    heavy.load_state_dict(model.state_dict())
    torch.manual_seed(5)
    assert heavy.nce_loss(b["A"], fake_B).item() == pytest.approx(10 * nce.item(), rel=1e-5)


def test_nce_uses_this_devices_batch_size_so_images_do_not_mix() -> None:
    # two images in one batch give the mean of their losses computed one at a time
    model = tiny_cut(num_patches=16)
    b = batch(n=2)
    fake_B = model.generate(b)["fake_B"]
    torch.manual_seed(1)
    both = model.nce_loss(b["A"], fake_B)
    alone = []
    for i in range(2):
        torch.manual_seed(1)
        alone.append(model.nce_loss(b["A"][i : i + 1], fake_B[i : i + 1]))
    assert both.item() == pytest.approx(sum(alone).item() / 2, rel=1e-5)


def test_flipped_queries_are_flipped_back_before_comparison() -> None:
    # layer 0 (reflection padding) commutes with a horizontal flip, so a flipped copy of the
    # input, flipped back, matches the input position by position
    model = tiny_cut(nce_layers=[0], num_patches=32)
    x = batch(n=1)["A"]
    torch.manual_seed(2)
    flipped_back = model.nce_loss(x, torch.flip(x, [3]), flipped=True)
    torch.manual_seed(2)
    same = model.nce_loss(x, x)
    torch.manual_seed(2)
    not_flipped_back = model.nce_loss(x, torch.flip(x, [3]))
    assert flipped_back.item() == pytest.approx(same.item(), rel=1e-5)
    assert not_flipped_back.item() > same.item()


def test_discriminator_loss_halves_real_plus_fake_with_no_pool() -> None:
    model = tiny_cut()
    b = batch()
    outputs = model.generate(b)
    loss, terms = model.discriminator_loss(b, outputs)
    real, fake = model.D_B(b["B"]), model.D_B(outputs["fake_B"])
    expected = 0.5 * (
        F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake))
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert set(terms) == {"D", "D_real", "D_fake"}
    assert not hasattr(model, "pool_B")


def test_wgangp_adds_the_gradient_penalty_to_the_discriminator_loss() -> None:
    # the authors' CUT computes D_gp and never adds it: the total must hold it
    model = tiny_cut(gan_mode="wgangp", lambda_gp=5.0)  # not the default 10: it is passed
    b = batch()
    outputs = model.generate(b)
    torch.manual_seed(1)
    loss, terms = model.discriminator_loss(b, outputs)
    fake = outputs["fake_B"].detach()
    torch.manual_seed(1)  # the same interpolation weights
    penalty = gradient_penalty(model.D_B, b["B"], fake, 5.0)
    critic = 0.5 * (-model.D_B(b["B"]).mean() + model.D_B(fake).mean())
    assert penalty.item() > 0.1
    assert terms["D_gp"].item() == pytest.approx(penalty.item(), rel=1e-5)
    assert loss.item() == pytest.approx((critic + penalty).item(), rel=1e-5)


def test_a_generator_without_sequential_layers_is_a_config_error() -> None:
    unet = {"_target_": "unpaired.nn.UnetGenerator", "num_downs": 5, "ngf": 4}
    with pytest.raises(ConfigError, match=r"nn\.Sequential"):
        CUT(unet, TINY_D, optimizer=ADAM)
    with pytest.raises(ConfigError, match="layer"):
        tiny_cut(nce_layers=[0, 4, 99])


def test_the_grid_shows_translations_in_the_orientation_of_their_input() -> None:
    model = tiny_cut()
    b = batch()
    fake, idt = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    model.flipped = False
    plain = model.visuals(b, {"fake_B": fake, "idt_B": idt})
    assert list(plain) == ["real_A", "fake_B", "real_B", "idt_B"]
    assert plain["real_A"] is b["A"] and plain["real_B"] is b["B"]
    assert plain["fake_B"] is fake and plain["idt_B"] is idt
    model.flipped = True  # this step's inputs were flipped (FastCUT's flip equivariance)
    flipped = model.visuals(b, {"fake_B": fake, "idt_B": idt})
    torch.testing.assert_close(flipped["fake_B"], torch.flip(fake, [3]))
    torch.testing.assert_close(flipped["idt_B"], torch.flip(idt, [3]))
    # FastCUT has no identity translation to show
    model.flipped = False
    assert list(model.visuals(b, {"fake_B": fake})) == ["real_A", "fake_B", "real_B"]


def test_without_identity_nce_only_a_is_translated() -> None:
    model = tiny_cut(nce_idt=False)
    outputs = model.generate(batch())
    assert "idt_B" not in outputs and outputs["fake_B"].shape == (2, 3, 16, 16)


def test_one_patch_is_enough_and_none_is_refused() -> None:
    assert tiny_cut(num_patches=1).hparams.num_patches == 1
    with pytest.raises(ConfigError, match="num_patches=0"):
        tiny_cut(num_patches=0)

import pytest
import torch
from hydra.errors import InstantiationException
from torch.optim import Adam
from torch.optim.lr_scheduler import StepLR

from unpaired.errors import ConfigError
from unpaired.models import MUNIT

TINY = (
    "model.generator.dim=8",
    "model.generator.n_res=1",
    "model.generator.mlp_dim=16",
    "model.generator.style_dim=4",
    "model.discriminator.dim=8",
    "model.discriminator.n_layer=2",
    "model.discriminator.num_scales=2",
)


@pytest.fixture
def model(build_model) -> MUNIT:
    torch.manual_seed(0)
    return build_model("munit", *TINY)


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {
        "A": torch.rand(2, 3, 16, 16, generator=generator) * 2 - 1,
        "B": torch.rand(2, 3, 16, 16, generator=generator) * 2 - 1,
    }


def lsgan_generator(predictions: list[torch.Tensor]) -> torch.Tensor:
    return sum(((p - 1) ** 2).mean() for p in predictions)


def test_config_has_the_authors_weights_optimiser_schedule_and_sizes(build_model) -> None:
    model = build_model("munit")
    hp = model.hparams
    assert (hp.gan_mode, hp.gan_w, hp.recon_x_w, hp.recon_s_w, hp.recon_c_w) == (
        "lsgan",
        1,
        10,
        1,
        1,
    )
    assert hp.recon_x_cyc_w == 0
    assert model.max_iterations == 1_000_000
    assert model.style_dim == 8
    (opt_g, opt_d), schedulers = model.configure_optimizers()
    for optimizer in (opt_g, opt_d):
        group = optimizer.param_groups[0]
        assert isinstance(optimizer, Adam)
        assert (group["lr"], group["weight_decay"]) == (1e-4, 1e-4)
        assert tuple(group["betas"]) == (0.5, 0.999)  # torch < 2.10 keeps the config's list
    for entry in schedulers:
        assert entry["interval"] == "step"
        assert isinstance(entry["scheduler"], StepLR)
        assert (entry["scheduler"].step_size, entry["scheduler"].gamma) == (100_000, 0.5)
    assert sum(p.numel() for p in model.generator_parameters()) == 2 * 15_026_187
    assert sum(p.numel() for p in model.discriminator_parameters()) == 2 * 8_271_171


def test_generator_terms_match_hand_computation(model: MUNIT) -> None:
    real = {"A": torch.full((1, 3, 16, 16), 0.5), "B": torch.full((1, 3, 16, 16), -0.5)}
    fakes = {"fake_A": torch.rand(1, 3, 16, 16), "fake_B": torch.rand(1, 3, 16, 16)}
    outputs = {
        **fakes,
        "recon_A": torch.zeros(1, 3, 16, 16),  # |0 - 0.5| = 0.5
        "recon_B": torch.ones(1, 3, 16, 16),  # |1 + 0.5| = 1.5
        "style_A": torch.tensor([[1.0, 2.0, 3.0, 4.0]]),
        "style_A_cycle": torch.tensor([[1.0, 1.0, 1.0, 1.0]]),  # (0 + 1 + 2 + 3) / 4 = 1.5
        "style_B": torch.zeros(1, 4),
        "style_B_cycle": torch.full((1, 4), -0.25),  # 0.25
        "content_A": torch.zeros(1, 32, 4, 4),
        "content_A_cycle": torch.full((1, 32, 4, 4), 2.0),  # 2
        "content_B": torch.ones(1, 32, 4, 4),
        "content_B_cycle": torch.ones(1, 32, 4, 4),  # 0
    }
    loss, terms = model.generator_loss(real, outputs)
    expected = {
        "recon_x_A": 10 * 0.5,
        "recon_x_B": 10 * 1.5,
        "recon_s_A": 1.5,
        "recon_s_B": 0.25,
        "recon_c_A": 2.0,
        "recon_c_B": 0.0,
        "G_adv_AB": lsgan_generator(model.D_B(fakes["fake_B"])).item(),
        "G_adv_BA": lsgan_generator(model.D_A(fakes["fake_A"])).item(),
    }
    assert {name: terms[name].item() for name in expected} == pytest.approx(expected)
    assert loss.item() == pytest.approx(sum(expected.values()))
    assert set(terms) == {*expected, "G"}  # the style-augmented cycle is off by default


def test_codes_are_reencoded_from_the_translations(model: MUNIT, batch) -> None:
    model.eval()
    outputs = model.generate(batch)
    content_A, own_style_A = model.gen_A.encode(batch["A"])
    torch.testing.assert_close(outputs["recon_A"], model.gen_A.decode(content_A, own_style_A))
    torch.testing.assert_close(outputs["fake_B"], model.gen_B.decode(content_A, outputs["style_B"]))
    content_A_cycle, style_B_cycle = model.gen_B.encode(outputs["fake_B"])
    torch.testing.assert_close(outputs["content_A_cycle"], content_A_cycle)
    torch.testing.assert_close(outputs["style_B_cycle"], style_B_cycle)


def test_style_augmented_cycle_decodes_the_cycled_content_with_the_own_style(
    build_model, batch
) -> None:
    model = build_model("munit", *TINY, "model.recon_x_cyc_w=10").eval()
    outputs = model.generate(batch)
    _, own_style_A = model.gen_A.encode(batch["A"])
    expected = model.gen_A.decode(outputs["content_A_cycle"], own_style_A)
    torch.testing.assert_close(outputs["cycle_A"], expected)
    _, terms = model.generator_loss(batch, outputs)
    cycle = 10 * (expected - batch["A"]).abs().mean()
    assert terms["cycle_A"].item() == pytest.approx(cycle.item())


def test_the_style_augmented_cycle_is_on_for_any_positive_weight_and_off_at_zero(
    build_model, batch
) -> None:
    cycles = {"cycle_A", "cycle_B"}
    on = build_model("munit", *TINY, "model.recon_x_cyc_w=0.5").eval()
    outputs = on.generate(batch)
    _, terms = on.generator_loss(batch, outputs)
    assert cycles <= set(outputs) and cycles <= set(terms)
    off = build_model("munit", *TINY, "model.recon_x_cyc_w=0").eval()
    outputs = off.generate(batch)
    _, terms = off.generator_loss(batch, outputs)
    assert not cycles & (set(outputs) | set(terms))


def test_training_draws_new_styles_and_evaluation_uses_the_first_fixed_one(
    model: MUNIT, batch
) -> None:
    model.train()
    first, second = model.generate(batch), model.generate(batch)
    assert (first["style_B"] - second["style_B"]).abs().min() > 0
    assert (first["fake_B"] - second["fake_B"]).abs().mean() > 1e-3
    model.eval()
    first, second = model.generate(batch), model.generate(batch)
    torch.testing.assert_close(first["fake_B"], second["fake_B"], rtol=0, atol=0)
    torch.testing.assert_close(first["style_B"], model.fixed_style_B[0].expand(2, -1))
    torch.testing.assert_close(model.translate(batch["A"], "AtoB"), first["fake_B"])
    torch.testing.assert_close(model.translate(batch["B"], "BtoA"), first["fake_A"])


def test_samples_differ_by_style_and_a_seed_reproduces_them(model: MUNIT, batch) -> None:
    samples = model.sample(batch["A"], "AtoB", 3, torch.Generator().manual_seed(7))
    assert samples.shape == (2, 3, 3, 16, 16)
    again = model.sample(batch["A"], "AtoB", 3, torch.Generator().manual_seed(7))
    torch.testing.assert_close(samples, again, rtol=0, atol=0)
    for j, k in ((0, 1), (0, 2), (1, 2)):
        assert (samples[:, j] - samples[:, k]).abs().mean() > 1e-3
    other_seed = model.sample(batch["A"], "AtoB", 3, torch.Generator().manual_seed(8))
    assert (other_seed - samples).abs().mean() > 1e-3


def test_sample_j_of_every_image_uses_style_code_j(model: MUNIT, batch) -> None:
    samples = model.sample(batch["B"], "BtoA", 2, torch.Generator().manual_seed(3))
    styles = torch.randn(2, model.style_dim, generator=torch.Generator().manual_seed(3))
    content, _ = model.gen_B.encode(batch["B"])
    for j in range(2):
        expected = model.gen_A.decode(content, styles[j].expand(2, -1))
        torch.testing.assert_close(samples[:, j], expected)


def test_translation_takes_the_style_of_reference_images(model: MUNIT, batch) -> None:
    references = batch["B"].flip(0)
    content, _ = model.gen_A.encode(batch["A"])
    _, styles = model.gen_B.encode(references)
    translated = model.translate_with_style(batch["A"], references, "AtoB")
    torch.testing.assert_close(translated, model.gen_B.decode(content, styles))
    one_for_all = model.translate_with_style(batch["A"], references[:1], "AtoB")
    torch.testing.assert_close(one_for_all[1:], model.gen_B.decode(content[1:], styles[:1]))
    with pytest.raises(ConfigError, match="3 style reference images for 2 images"):
        model.translate_with_style(batch["A"], torch.zeros(3, 3, 16, 16), "AtoB")


def test_validation_grids_show_every_fixed_style_per_input(model: MUNIT, batch) -> None:
    model.eval()
    with torch.no_grad():
        outputs = model.generate(batch)
        visuals = model.visuals(batch, outputs)
    assert list(visuals) == [
        "real_A",
        "fake_B_1",
        "fake_B_2",
        "fake_B_3",
        "real_B",
        "fake_A_1",
        "fake_A_2",
        "fake_A_3",
    ]
    torch.testing.assert_close(visuals["fake_B_1"], model.translate(batch["A"]))
    torch.testing.assert_close(visuals["fake_A_1"], model.translate(batch["B"], "BtoA"))
    content, _ = model.gen_A.encode(batch["A"])
    expected = model.gen_B.decode(content, model.fixed_style_B[2].expand(2, -1))
    torch.testing.assert_close(visuals["fake_B_3"], expected)
    assert (visuals["fake_B_2"] - visuals["fake_B_1"]).abs().mean() > 1e-3


def test_training_grids_show_the_step_outputs(model: MUNIT, batch) -> None:
    model.train()
    outputs = model.generate(batch)
    visuals = model.visuals(batch, outputs)
    assert list(visuals) == ["real_A", "recon_A", "fake_B", "real_B", "recon_B", "fake_A"]
    assert visuals["fake_B"] is outputs["fake_B"]


def test_fixed_styles_come_from_the_seed_and_travel_in_the_checkpoint(build_model) -> None:
    first, same_seed = build_model("munit", *TINY), build_model("munit", *TINY)
    torch.testing.assert_close(first.fixed_style_A, same_seed.fixed_style_A)
    assert first.fixed_style_A.shape == (3, 4)
    other = build_model("munit", *TINY, "model.style_seed=1")
    assert not torch.equal(other.fixed_style_B, first.fixed_style_B)
    other.load_state_dict(first.state_dict())
    torch.testing.assert_close(other.fixed_style_B, first.fixed_style_B)


def test_bad_sample_count_is_a_clear_error(model: MUNIT, batch) -> None:
    with pytest.raises(ConfigError, match="samples=0"):
        model.sample(batch["A"], "AtoB", 0)


def test_a_generator_of_another_method_is_refused(model_arguments) -> None:
    with pytest.raises(
        ConfigError, match=r"model\.generator of type AdaINGenerator, got VAEGenerator"
    ):
        MUNIT(**model_arguments("munit", "model/generator=unit_vae"))


def test_one_fixed_style_is_enough_and_none_is_refused(build_model) -> None:
    assert build_model("munit", *TINY, "model.num_fixed_styles=1").fixed_style_B.shape[0] == 1
    with pytest.raises(InstantiationException, match="num_fixed_styles=0 must be at least 1"):
        build_model("munit", *TINY, "model.num_fixed_styles=0")  # Hydra wraps the ConfigError

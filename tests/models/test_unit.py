import lightning as L
import pytest
import torch
from torch.optim import Adam
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader

from unpaired.errors import ConfigError
from unpaired.models import UNIT
from unpaired.models.unit import latent_kl

TINY = (
    "model.generator.dim=8",
    "model.generator.n_res=1",
    "model.discriminator.dim=8",
    "model.discriminator.n_layer=2",
    "model.discriminator.num_scales=2",
)


@pytest.fixture
def model(build_model) -> UNIT:
    torch.manual_seed(0)
    return build_model("unit", *TINY)


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
    model = build_model("unit")
    hp = model.hparams
    assert (hp.gan_mode, hp.gan_w, hp.recon_x_w, hp.recon_kl_w) == ("lsgan", 1, 10, 0.01)
    assert (hp.recon_x_cyc_w, hp.recon_kl_cyc_w, hp.n_shared_blocks) == (10, 0.01, 0)
    assert model.max_iterations == 1_000_000
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
    n_params = sum(p.numel() for p in model.generator_parameters())
    assert n_params == 2 * 11_140_483
    assert sum(p.numel() for p in model.discriminator_parameters()) == 2 * 8_271_171


def test_generators_start_kaiming_normal_and_discriminators_from_n_0_002(model: UNIT) -> None:
    first = model.gen_A.enc.downsample[0].conv  # 3 -> 8 channels, 7x7
    fan_in = 3 * 7 * 7
    assert first.weight.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.15)
    assert torch.count_nonzero(first.bias) == 0
    weights = torch.cat([p.flatten() for n, p in model.D_A.named_parameters() if "weight" in n])
    assert weights.std().item() == pytest.approx(0.02, rel=0.1)


def test_kl_term_is_the_mean_of_the_squared_code() -> None:
    assert latent_kl(torch.tensor([[1.0, 2.0], [3.0, -4.0]])).item() == pytest.approx(30 / 4)


def test_generator_terms_match_hand_computation(model: UNIT) -> None:
    real = {"A": torch.full((1, 3, 16, 16), 0.5), "B": torch.full((1, 3, 16, 16), -0.5)}
    fakes = {"fake_A": torch.rand(1, 3, 16, 16), "fake_B": torch.rand(1, 3, 16, 16)}
    outputs = {
        **fakes,
        "recon_A": torch.zeros(1, 3, 16, 16),  # |0 - 0.5| = 0.5
        "recon_B": torch.zeros(1, 3, 16, 16),  # 0.5
        "cycle_A": torch.ones(1, 3, 16, 16),  # |1 - 0.5| = 0.5
        "cycle_B": torch.ones(1, 3, 16, 16),  # |1 + 0.5| = 1.5
        "latent_A": torch.full((1, 32, 4, 4), 2.0),  # mean square 4
        "latent_B": torch.full((1, 32, 4, 4), -1.0),  # 1
        "latent_A_cycle": torch.full((1, 32, 4, 4), 3.0),  # 9
        "latent_B_cycle": torch.zeros(1, 32, 4, 4),  # 0
    }
    loss, terms = model.generator_loss(real, outputs)
    expected = {
        "recon_x_A": 10 * 0.5,
        "recon_x_B": 10 * 0.5,
        "cycle_A": 10 * 0.5,
        "cycle_B": 10 * 1.5,
        "kl_A": 0.01 * 4,
        "kl_B": 0.01 * 1,
        "kl_cycle_A": 0.01 * 9,
        "kl_cycle_B": 0.0,
        "G_adv_AB": lsgan_generator(model.D_B(fakes["fake_B"])).item(),
        "G_adv_BA": lsgan_generator(model.D_A(fakes["fake_A"])).item(),
    }
    assert {name: terms[name].item() for name in expected} == pytest.approx(expected)
    assert loss.item() == pytest.approx(sum(expected.values()))
    assert set(terms) == {*expected, "G"}


def test_discriminator_loss_is_real_plus_fake_summed_over_scales_without_halving(
    model: UNIT, batch
) -> None:
    fake_A, fake_B = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    loss, terms = model.discriminator_loss(batch, {"fake_A": fake_A, "fake_B": fake_B})

    def by_hand(discriminator, real, fake) -> float:
        real_part = sum(((p - 1) ** 2).mean() for p in discriminator(real))
        fake_part = sum((p**2).mean() for p in discriminator(fake))
        return (real_part + fake_part).item()

    assert terms["D_A"].item() == pytest.approx(by_hand(model.D_A, batch["A"], fake_A))
    assert terms["D_B"].item() == pytest.approx(by_hand(model.D_B, batch["B"], fake_B))
    assert loss.item() == pytest.approx(terms["D_A"].item() + terms["D_B"].item())


def test_codes_are_noisy_in_training_and_exact_outside(model: UNIT, batch) -> None:
    model.train()
    first, second = model.generate(batch), model.generate(batch)
    assert (first["fake_B"] - second["fake_B"]).abs().max() > 1e-3
    torch.testing.assert_close(first["latent_A"], second["latent_A"])  # the code is the mean
    model.eval()
    first, second = model.generate(batch), model.generate(batch)
    torch.testing.assert_close(first["fake_B"], second["fake_B"], rtol=0, atol=0)
    expected = model.gen_B.decode(model.gen_A.encode(batch["A"]))
    torch.testing.assert_close(model.translate(batch["A"], "AtoB"), expected)
    torch.testing.assert_close(first["fake_B"], expected)
    torch.testing.assert_close(
        model.translate(batch["B"], "BtoA"), model.gen_A.decode(model.gen_B.encode(batch["B"]))
    )


def test_translation_is_encoded_again_and_decoded_back_for_the_cycle(model: UNIT, batch) -> None:
    model.eval()
    outputs = model.generate(batch)
    torch.testing.assert_close(outputs["latent_A_cycle"], model.gen_B.encode(outputs["fake_B"]))
    torch.testing.assert_close(
        outputs["cycle_A"], model.gen_A.decode(model.gen_B.encode(outputs["fake_B"]))
    )


def test_zero_cycle_weights_drop_the_cycle_terms(build_model, batch) -> None:
    model = build_model("unit", *TINY, "model.recon_x_cyc_w=0", "model.recon_kl_cyc_w=0")
    outputs = model.generate(batch)
    _, terms = model.generator_loss(batch, outputs)
    assert "cycle_A" not in outputs
    assert not {"cycle_A", "cycle_B", "kl_cycle_A", "kl_cycle_B"} & set(terms)


def test_shared_blocks_are_one_set_of_parameters_in_the_generator_optimiser(build_model) -> None:
    model = build_model("unit", *TINY, "model.n_shared_blocks=1")
    assert model.gen_B.enc.res_blocks[0] is model.gen_A.enc.res_blocks[0]
    parameters = list(model.generator_parameters())
    assert len({id(p) for p in parameters}) == len(parameters)
    unshared = build_model("unit", *TINY)
    block = 2 * (32 * 32 * 9 + 32)  # one residual block: two 3x3 convs at 32 channels
    n_unshared = sum(p.numel() for p in unshared.generator_parameters())
    assert sum(p.numel() for p in parameters) == n_unshared - 2 * block


def test_a_generator_of_another_method_is_refused(model_arguments) -> None:
    arguments = model_arguments("unit", "model/generator=resnet_6blocks")
    with pytest.raises(
        ConfigError, match=r"model\.generator of type VAEGenerator, got ResnetGenerator"
    ):
        UNIT(**arguments)


def test_wgangp_is_refused(model_arguments) -> None:
    with pytest.raises(ConfigError, match="gan_mode='wgangp'"):
        UNIT(**model_arguments("unit", *TINY, "model.gan_mode=wgangp"))


def test_sharing_more_blocks_than_the_generator_has_is_refused(model_arguments) -> None:
    with pytest.raises(ConfigError, match="n_shared_blocks=2"):
        UNIT(**model_arguments("unit", *TINY, "model.n_shared_blocks=2"))


def test_unknown_direction_is_a_clear_error(model: UNIT, batch) -> None:
    with pytest.raises(ConfigError, match=r"direction=A2B is not a translation .* AtoB, BtoA"):
        model.translate(batch["A"], "A2B")


class _CountBatches(L.Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_train_batch_end(self, *args: object) -> None:
        self.batches += 1


def _batches_trained(model: UNIT, max_epochs: int) -> int:
    """Fit ``model`` on two training batches per epoch; the number of batches it trained on."""
    images = [{"A": torch.rand(3, 16, 16), "B": torch.rand(3, 16, 16)} for _ in range(2)]
    counter = _CountBatches()
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[counter],
    )
    trainer.fit(model, train_dataloaders=DataLoader(images, batch_size=1))
    return counter.batches


@pytest.mark.parametrize("max_iterations", [1, 3])
def test_training_stops_after_max_iterations_batches(build_model, max_iterations: int) -> None:
    # the authors' max_iter counts training batches over the run, across epochs
    torch.manual_seed(0)
    model = build_model("unit", *TINY, f"model.max_iterations={max_iterations}")
    assert _batches_trained(model, max_epochs=5) == max_iterations


def test_without_max_iterations_the_trainer_decides(build_model) -> None:
    torch.manual_seed(0)
    model = build_model("unit", *TINY, "model.max_iterations=null")
    assert _batches_trained(model, max_epochs=2) == 4


def test_the_cycle_terms_are_on_for_any_positive_weight_and_off_at_zero(build_model) -> None:
    batch = {"A": torch.rand(2, 3, 16, 16) * 2 - 1, "B": torch.rand(2, 3, 16, 16) * 2 - 1}
    cycles = {"cycle_A", "cycle_B"}
    torch.manual_seed(0)
    on = build_model("unit", *TINY, "model.recon_x_cyc_w=0.5")
    outputs = on.generate(batch)
    _, terms = on.generator_loss(batch, outputs)
    assert cycles <= set(outputs) and cycles <= set(terms)
    off = build_model("unit", *TINY, "model.recon_x_cyc_w=0", "model.recon_kl_cyc_w=0")
    outputs = off.generate(batch)
    _, terms = off.generator_loss(batch, outputs)
    assert not cycles & (set(outputs) | set(terms))

"""StarGAN v2's losses against hand computations, R1 against autograd, the updates of a batch as
the authors' solver.py makes them, the diversity weight's decay, translating."""

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from unpaired.errors import ConfigError
from unpaired.losses.r1 import discriminate_with_r1, r1_penalty
from unpaired.models.outputs import Outputs
from unpaired.models.stargan_v2 import StarGANv2
from unpaired.nn.face_landmarks import face_masks

ADAM = {
    "_target_": "torch.optim.Adam",
    "_partial_": True,
    "lr": 1e-4,
    "betas": [0.0, 0.99],
    "weight_decay": 1e-4,
}
SIZE, STYLE, LATENT = 16, 4, 3
NETWORKS = {
    "generator": {
        "_target_": "unpaired.nn.stargan_v2.StarGANv2Generator",
        "img_size": SIZE,
        "style_dim": STYLE,
        "max_conv_dim": 8,
        "dim_in": 4,
        "w_hpf": 0,
    },
    "mapping_network": {
        "_target_": "unpaired.nn.stargan_v2.MappingNetwork",
        "latent_dim": LATENT,
        "style_dim": STYLE,
        "hidden_dim": 8,
    },
    "style_encoder": {
        "_target_": "unpaired.nn.stargan_v2.StyleEncoder",
        "img_size": SIZE,
        "style_dim": STYLE,
        "max_conv_dim": 8,
        "dim_in": 4,
    },
    "discriminator": {
        "_target_": "unpaired.nn.stargan_v2.StarGANv2Discriminator",
        "img_size": SIZE,
        "max_conv_dim": 8,
        "dim_in": 4,
    },
}
DOMAINS = ("cat", "dog", "wild")


def tiny(**overrides) -> StarGANv2:
    torch.manual_seed(0)
    options = {"optimizer": ADAM, "domains": DOMAINS, "init_type": "kaiming", **overrides}
    return StarGANv2(**NETWORKS, **options)


def training_batch(n: int = 4, seed: int = 1) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)

    def images() -> torch.Tensor:
        return torch.rand(n, 3, SIZE, SIZE, generator=generator) * 2 - 1

    return {
        "source": images(),
        "source_domain": torch.randint(3, (n,), generator=generator),
        "reference": images(),
        "reference2": images(),
        "reference_domain": torch.randint(3, (n,), generator=generator),
    }


def bce_real(logits: torch.Tensor) -> torch.Tensor:
    """The authors' adv_loss(logits, 1): BCE on logits against 1 = mean softplus(-logit)."""
    return F.softplus(-logits).mean()


def bce_fake(logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(logits).mean()


# --- R1 ---------------------------------------------------------------------------------------


def test_r1_of_a_linear_discriminator_is_half_its_squared_weight_norm() -> None:
    weight = torch.randn(3, 4, 4, requires_grad=True)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    penalty = r1_penalty((x * weight).flatten(1).sum(1), x)
    # D(x) = <w, x>: the gradient is w for every image, so R1 = 0.5 |w|^2
    assert penalty.item() == pytest.approx(0.5 * weight.square().sum().item(), rel=1e-6)
    # and it trains the discriminator: d/dw (0.5 |w|^2) = w
    (grad,) = torch.autograd.grad(penalty, weight)
    torch.testing.assert_close(grad, weight.detach())


def test_r1_equals_an_autograd_computation_image_by_image_on_a_tiny_discriminator() -> None:
    torch.manual_seed(0)
    discriminator = nn.Sequential(
        nn.Conv2d(3, 4, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 4 * 4, 1)
    )
    real = torch.randn(3, 3, 8, 8)
    logits, penalty = discriminate_with_r1(lambda x: discriminator(x).squeeze(1), real)
    squared_norms = []
    for image in real:
        image = image[None].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(image).sum(), image)
        squared_norms.append(grad.square().sum())
    expected = 0.5 * torch.stack(squared_norms).mean()
    torch.testing.assert_close(penalty, expected)
    torch.testing.assert_close(logits, discriminator(real).squeeze(1))
    assert penalty.requires_grad  # it trains the discriminator
    # under inference mode (validation) it is measured, with the same value
    with torch.inference_mode():
        _, measured = discriminate_with_r1(lambda x: discriminator(x).squeeze(1), real)
    assert not measured.requires_grad
    torch.testing.assert_close(measured, expected)


# --- the losses ---------------------------------------------------------------------------------


def test_the_discriminator_losses_by_hand() -> None:
    model = tiny(lambda_reg=0.5)
    outputs = Outputs(model.generate(training_batch()))
    x, y_org, y_trg = outputs["x_real"], outputs["y_org"], outputs["y_trg"]
    D, G = model.discriminator, model.generator
    for loss_function, style in (
        (model.discriminator_loss, model.mapping_network(outputs["z"], y_trg)),
        (model.discriminator_reference_loss, model.style_encoder(outputs["x_ref"], y_trg)),
    ):
        loss, terms = loss_function({}, outputs)
        fake = G(x, style).detach()
        _, penalty = discriminate_with_r1(lambda images: D(images, y_org), x)
        expected = bce_real(D(x, y_org)) + bce_fake(D(fake, y_trg)) + 0.5 * penalty
        torch.testing.assert_close(loss, expected)
    assert set(terms) == {"D_ref", "D_ref_real", "D_ref_fake", "D_ref_reg"}


@pytest.mark.parametrize("guide", ["latent", "reference"])
def test_the_generator_losses_by_hand(guide: str) -> None:
    model = tiny(lambda_sty=2.0, lambda_ds=3.0, lambda_cyc=5.0)
    outputs = Outputs(model.generate(training_batch()))
    x, y_org, y_trg = outputs["x_real"], outputs["y_org"], outputs["y_trg"]
    G, E, D, F_ = model.generator, model.style_encoder, model.discriminator, model.mapping_network
    if guide == "latent":
        style, style2 = F_(outputs["z"], y_trg), F_(outputs["z2"], y_trg)
        loss, terms = model.generator_loss({}, outputs)
    else:
        style, style2 = E(outputs["x_ref"], y_trg), E(outputs["x_ref2"], y_trg)
        loss, terms = model.generator_reference_loss({}, outputs)
    fake = G(x, style)
    adversarial = bce_real(D(fake, y_trg))
    style_error = (E(fake, y_trg) - style).abs().mean()
    diversity = (fake - G(x, style2)).abs().mean()
    cycle = (G(fake, E(x, y_org)) - x).abs().mean()
    expected = adversarial + 2 * style_error - 3 * diversity + 5 * cycle
    torch.testing.assert_close(loss, expected)
    prefix = "G" if guide == "latent" else "G_ref"
    torch.testing.assert_close(terms[f"{prefix}_ds"], diversity)
    # the second fake is detached: the diversity term pushes the first fake only
    loss.backward()
    assert model.generator.from_rgb.weight.grad is not None


def test_the_diversity_weight_falls_linearly_to_zero_over_ds_iter() -> None:
    model = tiny(lambda_ds=2.0, ds_iter=100)
    assert [model.diversity_weight(i) for i in (0, 25, 50, 100, 150)] == [2.0, 1.5, 1.0, 0.0, 0.0]


# --- the updates of a batch ------------------------------------------------------------------


def test_one_batch_updates_d_twice_g_twice_and_f_and_e_once_as_the_authors_solver() -> None:
    model = tiny()
    assert [step.optimizers for step in model.training_steps()] == [
        ("D",),
        ("D",),
        ("G", "F", "E"),
        ("G",),
    ]
    groups = {group.name: group for group in model.optimizer_groups()}
    assert groups["F"].networks == ("mapping_network",) and groups["F"].options == {"lr": 1e-6}
    trainer = L.Trainer(
        max_steps=-1,
        max_epochs=1,
        limit_train_batches=1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    loader = DataLoader([training_batch(seed=2)], batch_size=None)
    trainer.fit(model, train_dataloaders=loader)
    steps = {}
    for name, optimizer in model._optimizers_by_name().items():
        (state,) = {int(s["step"]) for s in optimizer.optimizer.state.values()}
        steps[name] = state
    assert steps == {"D": 2, "G": 2, "F": 1, "E": 1}
    lrs = {name: o.param_groups[0]["lr"] for name, o in model._optimizers_by_name().items()}
    assert lrs == {"D": 1e-4, "G": 1e-4, "F": 1e-6, "E": 1e-4}


# --- evaluation and translating ----------------------------------------------------------------


def validation_batch(n: int = 2) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    return {d: torch.rand(n, 3, SIZE, SIZE, generator=generator) * 2 - 1 for d in DOMAINS}


def test_evaluation_translates_every_pair_with_the_fixed_latent_code() -> None:
    model = tiny().eval()
    batch = validation_batch()
    with torch.no_grad():
        outputs = model.generate(batch)
        for source in DOMAINS:
            for target in DOMAINS:
                if source == target:
                    continue
                y = torch.full((2,), DOMAINS.index(target))
                style = model.mapping_network(model.fixed_latents[0].expand(2, -1), y)
                expected = model.generator(batch[source], style)
                torch.testing.assert_close(outputs[f"fake_{source}_to_{target}"], expected)
        # the training losses are measured on every domain's images sent to the next domain
        assert outputs["y_trg"].tolist() == [1, 1, 2, 2, 0, 0]
        columns = model.visuals(batch, Outputs(outputs))
    assert list(columns)[:3] == ["real_cat", "fake_dog_from_cat", "fake_wild_from_cat"]


def test_sampling_and_reference_guided_translation() -> None:
    model = tiny().eval()
    images = validation_batch()["cat"]
    references = validation_batch()["wild"]
    with torch.no_grad():
        one = model.sample(images, "cat_to_wild", 3, generator=torch.Generator().manual_seed(5))
        again = model.sample(images, "cat_to_wild", 3, generator=torch.Generator().manual_seed(5))
        styled = model.translate_with_style(images, references, "cat_to_wild")
        expected = model.generator(images, model.style_encoder(references, torch.tensor([2, 2])))
    assert one.shape == (2, 3, 3, SIZE, SIZE) and torch.equal(one, again)
    assert not torch.allclose(one[:, 0], one[:, 1])  # each sample its own style
    torch.testing.assert_close(styled, expected)
    with pytest.raises(ConfigError, match="3 style reference images for 2"):
        model.translate_with_style(images, torch.zeros(3, 3, SIZE, SIZE), "cat_to_wild")


def test_one_domain_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least two"):
        tiny(domains=("cat",))


# --- the CelebA-HQ setting: high-pass skips under face masks ----------------------------------

#: 64 pixels: the generator's features pass 32 and 64, where the masks enter.
HPF_NETWORKS = {
    name: {**node, "img_size": 64} if "img_size" in node else node
    for name, node in NETWORKS.items()
}
HPF_NETWORKS["generator"] = {**HPF_NETWORKS["generator"], "w_hpf": 1}


def tiny_hpf(**overrides) -> StarGANv2:
    torch.manual_seed(0)
    options = {"optimizer": ADAM, "domains": DOMAINS, "fan_weights": "random", **overrides}
    return StarGANv2(**HPF_NETWORKS, **options)


class GeneratorCalls:
    """Records the masks of each generator call, and its input and output."""

    def __init__(self, model: StarGANv2) -> None:
        self.calls: list[tuple[torch.Tensor, object, torch.Tensor]] = []
        forward = model.generator.forward

        def recording(x, s, masks=None):
            out = forward(x, s, masks)
            self.calls.append((x.detach(), masks, out.detach()))
            return out

        model.generator.forward = recording


def assert_masks_of(masks: object, fan: nn.Module, images: torch.Tensor) -> None:
    assert isinstance(masks, tuple), "the generator got no face masks"
    for got, expected in zip(masks, face_masks(fan, images), strict=True):
        torch.testing.assert_close(got, expected)


def test_every_generator_call_gets_the_face_masks_of_its_input_as_the_authors_solver() -> None:
    """solver.py: the sources' masks for the fakes (D and G steps), the fakes' masks for the
    cycle; utils.py: the sources' masks for every translation."""
    model = tiny_hpf()
    calls = GeneratorCalls(model).calls
    batch = training_batch(n=2)
    batch = {k: F.interpolate(v, size=64) if v.dim() == 4 else v for k, v in batch.items()}
    outputs = Outputs(model.generate(batch))
    x_real = batch["source"]
    model.discriminator_loss(batch, outputs)
    model.generator_reference_loss(batch, outputs)
    (d_fake,), (g_fake, g_fake2, g_rec) = calls[:1], calls[1:]
    for x, masks, _ in (d_fake, g_fake, g_fake2):
        assert torch.equal(x, x_real)
        assert_masks_of(masks, model.fan, x_real)
    x, masks, _ = g_rec
    assert torch.equal(x, g_fake[2])  # the cycle translates the fake back ...
    assert_masks_of(masks, model.fan, g_fake[2])  # ... with the fake's own masks
    calls.clear()
    model.eval()
    with torch.no_grad():
        model.sample(x_real, "cat_to_dog", 2)
        model.translate_with_style(x_real, x_real[:1], "cat_to_dog")
    assert len(calls) == 3
    for _, masks, _ in calls:
        assert_masks_of(masks, model.fan, x_real)
    masked = calls[-1][2]
    with torch.no_grad():  # and the masks matter
        style = model.style_encoder(x_real[:1], torch.tensor([1])).expand(2, -1)
        assert not torch.allclose(model.generator(x_real, style), masked)


def test_without_the_face_landmark_file_the_error_names_it_and_the_setting_that_needs_none(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ConfigError) as error:
        tiny_hpf(fan_weights=None)
    message = str(error.value)
    assert "w_hpf > 0" in message and "wing.ckpt" in message and "dropbox.com" in message
    assert "model.fan_weights=/path/to/wing.ckpt" in message and "w_hpf=0" in message
    assert tiny(fan_weights=None).fan is None  # w_hpf 0 never reads it

"""What every model does with its configuration and what a user calls on a trained one
(unpaired-translate, notebooks): the configured schedule, the default direction, MUNIT's
sampling and its style references."""

import pytest
import torch

from unpaired.errors import ConfigError

UNIT_TINY = (
    "model.generator.dim=8",
    "model.generator.n_res=1",
    "model.discriminator.dim=8",
    "model.discriminator.n_layer=2",
    "model.discriminator.num_scales=2",
)
MUNIT_TINY = (*UNIT_TINY, "model.generator.mlp_dim=16", "model.generator.style_dim=4")
CYCLEGAN_TINY = ("model.generator.ngf=4", "model.generator.n_blocks=1", "model.discriminator.ndf=4")
BUILDS = {"cyclegan": CYCLEGAN_TINY, "unit": UNIT_TINY, "munit": MUNIT_TINY}
CUT_TINY = ("model.generator.ngf=4", "model.generator.n_blocks=1", "model.discriminator.ndf=4")
SCHEDULES = {
    "cyclegan": (CYCLEGAN_TINY, "LinearDecayLR", "epoch"),
    "cut": (CUT_TINY, "LinearDecayLR", "epoch"),
    "unit": (UNIT_TINY, "StepLR", "step"),
    "munit": (MUNIT_TINY, "StepLR", "step"),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_each_optimiser_gets_the_configured_schedule(build_model, name: str) -> None:
    overrides, scheduler_class, interval = SCHEDULES[name]
    optimizers, schedulers = build_model(name, *overrides).configure_optimizers()
    assert len(optimizers) == len(schedulers) == 2
    for optimizer, entry in zip(optimizers, schedulers, strict=True):
        assert type(entry["scheduler"]).__name__ == scheduler_class
        assert entry["scheduler"].optimizer is optimizer and entry["interval"] == interval


def images(n: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_translate_goes_from_a_to_b_unless_told(build_model, name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name, *BUILDS[name]).eval()
    x = images()
    with torch.no_grad():
        default, a_to_b, b_to_a = (
            model.translate(x),
            model.translate(x, "AtoB"),
            model.translate(x, "BtoA"),
        )
    torch.testing.assert_close(default, a_to_b)
    assert not torch.allclose(default, b_to_a)


@pytest.fixture
def munit(build_model):
    torch.manual_seed(0)
    return build_model("munit", *MUNIT_TINY).eval()


def test_munit_samples_one_translation_a_to_b_unless_told(munit) -> None:
    x = images()
    with torch.no_grad():
        default = munit.sample(x, generator=torch.Generator().manual_seed(3))
        a_to_b = munit.sample(x, "AtoB", 1, generator=torch.Generator().manual_seed(3))
    assert default.shape == (2, 1, 3, 16, 16)
    torch.testing.assert_close(default, a_to_b)


def test_munit_refuses_fewer_than_one_sample(munit) -> None:
    with pytest.raises(ConfigError, match="samples=0 must be at least 1"):
        munit.sample(images(), num_samples=0)


def test_munit_style_references_translate_a_to_b_unless_told(munit) -> None:
    x, references = images(seed=0), images(n=1, seed=1)
    with torch.no_grad():
        default = munit.translate_with_style(x, references)
        a_to_b = munit.translate_with_style(x, references, "AtoB")
        b_to_a = munit.translate_with_style(x, references, "BtoA")
    torch.testing.assert_close(default, a_to_b)
    assert not torch.allclose(default, b_to_a)

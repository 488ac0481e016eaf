"""What `unpaired-train` composes from conf/: paper defaults, presets and overrides."""

import pytest
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf


def test_default_run_is_the_authors_cyclegan_on_the_synthetic_set(compose_train):
    cfg = compose_train()
    assert cfg.data._target_ == "unpaired.data.datamodule.SyntheticDataModule"
    assert cfg.model._target_ == "unpaired.models.CycleGAN"
    assert cfg.model.generator.n_blocks == 9 and cfg.model.generator.ngf == 64
    assert cfg.model.discriminator.n_layers == 3
    assert OmegaConf.to_container(cfg.model.optimizer) == {
        "_target_": "torch.optim.Adam",
        "_partial_": True,
        "lr": 0.0002,
        "betas": [0.5, 0.999],
        "fused": True,  # the same update as the loop, in one kernel
    }
    assert cfg.logger.wandb.offline is True
    HydraConfig.instance().set_config(cfg)
    assert cfg.name == "cyclegan_synthetic"


def test_horse2zebra_preset_holds_the_papers_full_settings(compose_train):
    cfg = compose_train(["experiment=cyclegan/horse2zebra"])
    assert cfg.name == "cyclegan_horse2zebra"
    assert cfg.data.root.endswith("/horse2zebra")
    assert (cfg.data.load_size, cfg.data.crop_size, cfg.data.flip) == (286, 256, True)
    assert cfg.data.batch_size == 1
    assert cfg.model.generator.n_blocks == 9
    assert cfg.model.lambda_identity == 0.5 and cfg.model.pool_size == 50
    assert (cfg.model.scheduler.n_epochs, cfg.model.scheduler.n_epochs_decay) == (100, 100)
    assert cfg.trainer.max_epochs == 200


def test_demo_preset_is_small_enough_for_a_cpu(compose_train):
    cfg = compose_train(["experiment=cyclegan/synthetic"])
    assert cfg.name == "cyclegan_synthetic_demo"
    assert cfg.data.crop_size == 64
    assert cfg.model.generator.ngf < 64


@pytest.mark.parametrize(
    ("override", "key", "value"),
    [
        ("model.lambda_identity=0", "model.lambda_identity", 0),
        ("model/generator=resnet_6blocks", "model.generator.n_blocks", 6),
        (
            "model/discriminator=pixel",
            "model.discriminator._target_",
            "unpaired.nn.PixelDiscriminator",
        ),
        ("model.scheduler.n_epochs=3", "trainer.max_epochs", 103),
        ("trainer.max_epochs=7", "trainer.max_epochs", 7),
        ("data.batch_size=4", "data.batch_size", 4),
        ("logger=null", "logger", None),
    ],
)
def test_any_value_can_be_overridden(compose_train, override, key, value):
    cfg = compose_train([override])
    assert OmegaConf.select(cfg, key) == value


def test_pixel_discriminator_can_be_chosen(compose_train):
    cfg = compose_train(["model/discriminator=pixel"])
    assert cfg.model.discriminator._target_ == "unpaired.nn.PixelDiscriminator"


def test_null_is_accepted_for_a_config_group_and_nothing_else(tmp_path):
    from unpaired.cli.common import null_group_overrides

    (tmp_path / "logger").mkdir()
    args = ["logger=null", "ckpt_path=null", "seed=null", "logger=csv"]
    assert null_group_overrides(args, tmp_path) == [
        "~logger",
        "ckpt_path=null",
        "seed=null",
        "logger=csv",
    ]


@pytest.mark.parametrize("override", ["trainer.fast_dev_run=true", "debug=fast_dev_run"])
def test_a_fast_dev_run_is_asked_for_as_lightning_users_ask(compose_train, override):
    # Lightning's own flag composes (it was missing from conf/trainer: Hydra refused it)
    assert compose_train([override]).trainer.fast_dev_run is True

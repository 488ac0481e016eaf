"""What the scale-out configs compose to: DDP trainers, the SLURM launcher, the Optuna search,
the wandb group of a sweep, and the Trainer options that manual optimisation replaces."""

import math
from typing import Any

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.strategies import DDPStrategy
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from unpaired.cli.train import check_trainer_options, objective
from unpaired.config import run_group
from unpaired.errors import ConfigError, TrainingError


def resolved_launcher(cfg: DictConfig) -> dict[str, Any]:
    """The launcher's settings as a multirun resolves them when it creates the launcher: in a
    fresh process, after the configured Hydra callbacks' ``on_multirun_start``."""
    HydraConfig.instance().cfg = None  # as no job has started yet
    for callback in cfg.hydra.callbacks.values():
        instantiate(callback).on_multirun_start(config=cfg)
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)


def test_slurm_jobs_get_their_nodes_gpus_and_tasks_from_the_trainer(compose_train):
    cfg = compose_train(
        ["hydra/launcher=slurm", "trainer=ddp", "trainer.num_nodes=2", "trainer.devices=8"]
    )
    launcher = resolved_launcher(cfg)
    assert launcher["_target_"].endswith("SlurmLauncher")
    assert (launcher["nodes"], launcher["gpus_per_node"], launcher["tasks_per_node"]) == (2, 8, 8)
    assert launcher["max_num_timeout"] > 0 and launcher["signal_delay_s"] > 0  # requeued
    # the default run name reads ${hydra:runtime.choices}: resolvable before any job started
    assert "/cyclegan_synthetic/multirun_" in launcher["submitit_folder"]
    assert (cfg.trainer.num_nodes, cfg.trainer.devices) == (2, 8)


def test_a_slurm_job_needs_the_number_of_gpus_per_node(compose_train):
    cfg = compose_train(["hydra/launcher=slurm", "trainer=ddp"])  # devices: auto, all GPUs
    with pytest.raises(InterpolationResolutionError, match=r"trainer.devices='auto' must be a"):
        resolved_launcher(cfg)


def test_ddp_cpu_builds_a_two_process_gloo_trainer_that_tolerates_unused_parameters(
    compose_train,
):
    cfg = compose_train(["trainer=ddp_cpu", "logger=null"])
    trainer_cfg = OmegaConf.to_container(cfg.trainer)
    trainer_cfg.pop("max_epochs")  # an interpolation of the model's schedule
    trainer = instantiate({**trainer_cfg, "default_root_dir": None}, logger=False)
    strategy = trainer.strategy
    assert isinstance(strategy, DDPStrategy)
    assert strategy.num_processes == 2 and strategy._process_group_backend == "gloo"
    assert strategy._ddp_kwargs["find_unused_parameters"] is True


def test_optuna_search_maximises_the_ground_truth_psnr_with_one_cycle_weight(compose_train):
    cfg = compose_train(["hparams_search=cyclegan_optuna", "model.lambda_A=7"])
    assert cfg.hydra.mode == RunMode.MULTIRUN  # no -m needed
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.unpaired_optuna_sweeper.OptunaStudySweeper"
    assert (cfg.optimized_metric, cfg.hydra.sweeper.direction) == ("val/gt_PSNR_AB", "maximize")
    # no date in the sweep folder: the same command finds the study's database there again
    sweep = OmegaConf.to_container(cfg.hydra.sweep)  # unresolved: no run has started
    assert sweep["dir"] == "${paths.experiments_dir}/${name}/optuna_${hydra.sweeper.study_name}"
    assert OmegaConf.to_container(cfg.hydra.sweeper)["study_name"] == "${name}"
    assert cfg.hydra.sweeper.storage is None  # the default: optuna.db in that folder
    assert cfg.pruner._target_ == "optuna.pruners.MedianPruner"
    assert set(cfg.logger) == {"wandb", "csv"}  # the CSV log is what unpaired-report reads
    assert cfg.model.lambda_B == 7
    assert set(cfg.hydra.sweeper.params) == {
        "model.lambda_A",
        "model.lambda_identity",
        "model.optimizer.lr",
    }


def test_the_pruner_is_chosen_by_name_or_turned_off(compose_train):
    hyperband = compose_train(["hparams_search=cyclegan_optuna", "pruner=hyperband"])
    assert hyperband.pruner._target_ == "optuna.pruners.HyperbandPruner"
    assert "pruner" not in compose_train(["hparams_search=cyclegan_optuna", "pruner=null"])
    assert "pruner" not in compose_train([])  # a run that is no trial has none


def test_grid_sweeps_tie_the_cycle_weights_with_an_interpolation(compose_train):
    cfg = compose_train(["model.lambda_A=5", "model.lambda_B=${model.lambda_A}"])
    assert cfg.model.lambda_B == 5


def test_the_runs_of_one_sweep_share_a_wandb_group_named_after_it():
    sweep = "experiments/cyclegan_synthetic/multirun_2026-01-02_03-04-05"
    assert run_group("cyclegan_synthetic", RunMode.RUN, sweep) == "cyclegan_synthetic"
    assert run_group("cyclegan_synthetic", RunMode.MULTIRUN, sweep) == (
        "cyclegan_synthetic/multirun_2026-01-02_03-04-05"
    )


@pytest.mark.parametrize(
    ("option", "ours"),
    [
        ("gradient_clip_val=0.5", "model.grad_clip_val=0.5"),
        ("gradient_clip_algorithm=value", "model.grad_clip_algorithm=value"),
        ("accumulate_grad_batches=4", "model.accumulate_grad_batches=4"),
    ],
)
def test_trainer_clipping_and_accumulation_are_refused_naming_the_model_options(
    compose_train, option, ours
):
    cfg = compose_train([f"+trainer.{option}"])
    with pytest.raises(ConfigError, match=ours.replace(".", r"\.")):
        check_trainer_options(cfg.trainer)
    check_trainer_options(compose_train(["+trainer.accumulate_grad_batches=1"]).trainer)


def test_the_objective_is_the_named_metric_and_refuses_missing_or_diverged_ones():
    metrics = {"val/gt_PSNR_AB": 21.5, "train/G": 3.0}
    assert objective(metrics, "val/gt_PSNR_AB") == 21.5
    assert objective(metrics, None) is None
    with pytest.raises(ConfigError, match=r"val/FID.*train/G, val/gt_PSNR_AB"):
        objective(metrics, "val/FID")
    with pytest.raises(TrainingError, match="diverged"):
        objective({"val/gt_PSNR_AB": math.nan}, "val/gt_PSNR_AB")

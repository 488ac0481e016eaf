"""Sweeps through the entry point: an Optuna search that outlives a failing trial, and a grid
multirun through the submitit launcher; the runs of a sweep share one folder and a wandb group."""

import math
import re
from pathlib import Path

import optuna
import pytest
import yaml

FAST_RUN = [
    "trainer.limit_train_batches=2",
    "trainer.num_sanity_val_steps=0",
    "callbacks.image_grid=null",
    "callbacks.ground_truth=null",
]


def sweep_folder(tmp_path: Path, name: str) -> Path:
    (folder,) = (tmp_path / "experiments" / name).glob("multirun_*")
    return folder


def test_optuna_search_outlives_a_failing_trial_and_returns_the_best(
    tmp_path, tiny_overrides, run_cli
):
    args = [
        "-m",
        *tiny_overrides,
        *FAST_RUN,
        "name=search",
        "logger=wandb",
        "hparams_search=cyclegan_optuna",
        "hydra.sweeper.n_trials=2",
        # instead of the preset's search space: one invalid value, one valid; with the preset's
        # sampler seed (0) Optuna draws the invalid one first, so the search must go on after it
        "hydra.sweeper.params=null",
        "model.gan_mode=choice(lsgan,nonsense)",
    ]
    result = run_cli("train", args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]

    sweep = tmp_path / "experiments" / "search" / "optuna_search"  # named after the study
    logs = {
        "lsgan"
        if "gan_mode='lsgan'" in (trial / ".hydra" / "overrides.yaml").read_text()
        else "nonsense": (trial / "train.log").read_text()
        for trial in (sweep / "0", sweep / "1")
    }
    assert "model.gan_mode='nonsense' is not available for CycleGAN" in logs["nonsense"]
    study = optuna.load_study(study_name="search", storage=f"sqlite:///{sweep / 'optuna.db'}")
    (failed,) = study.get_trials(states=(optuna.trial.TrialState.FAIL,))
    assert "is not available for CycleGAN" in failed.user_attrs["fail_reason"]

    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["best_params"] == {"model.gan_mode": "lsgan"}
    (logged,) = re.findall(r"objective val/gt_PSNR_AB = (\S+)", logs["lsgan"])
    assert math.isfinite(results["best_value"])
    assert results["best_value"] == pytest.approx(float(logged))

    # the trial that ran logs into the sweep's wandb group (the failed one never started a run)
    group = re.search(r"logger +wandb \(offline, group (\S+)\)", logs["lsgan"])
    assert group is not None and group[1] == f"search/{sweep.name}"


@pytest.mark.slow  # two job processes, each importing torch and Lightning: ~90 s on 2 busy cores
def test_grid_multirun_through_the_submitit_local_launcher(tmp_path, tiny_overrides, run_cli):
    args = [
        "-m",
        *tiny_overrides,
        *FAST_RUN,
        "hydra/launcher=submitit_local",  # with the default name, read from ${hydra:...}
        "model.lambda_A=5,10",
        "model.lambda_B=${model.lambda_A}",  # the README's way to sweep one cycle weight
    ]
    result = run_cli("train", args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]

    sweep = sweep_folder(tmp_path, "cyclegan_synthetic")
    assert (sweep / ".submitit").is_dir()  # the jobs ran through submitit
    weights = set()
    for job in ("0", "1"):
        assert (sweep / job / "checkpoints" / "last.ckpt").is_file()
        hparams = yaml.safe_load((sweep / job / "csv" / "version_0" / "hparams.yaml").read_text())
        weights.add((hparams["model"]["lambda_A"], hparams["model"]["lambda_B"]))
    assert weights == {(5, 5), (10, 10)}

"""An Optuna search whose study lives in a database in the sweep folder: a killed sweep is
continued by the same command, and a pruner stops a trial that is clearly worse, also when
the trial is trained by two DDP processes."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml

from unpaired.cli.report import main as report
from unpaired.utils.checkpoint import load_checkpoint

HERE = Path(__file__).resolve().parent
FAST_TRIAL = [
    "trainer.num_sanity_val_steps=0",
    "callbacks.image_grid=null",
    "model.scheduler.n_epochs=2",
    "name=search",
    "hparams_search=cyclegan_optuna",
    # a heartbeat a second, stale after two: the killed sweep's trial is found within seconds
    "hydra.sweeper.heartbeat_interval=1",
    "hydra.sweeper.grace_period=2",
]


def sweep_command(tiny_overrides: list[str], *overrides: str) -> list[str]:
    return [sys.executable, "-m", "unpaired.cli.train", *tiny_overrides, *FAST_TRIAL, *overrides]


def environment() -> dict[str, str]:
    src = HERE.parents[1] / "src"
    return {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}", "OMP_NUM_THREADS": "1"}


def run_sweep(command: list[str], cwd: Path) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def load_study(sweep: Path) -> optuna.Study:
    return load_study_named(f"sqlite:///{sweep / 'optuna.db'}", "search")


def load_study_named(storage: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=storage)


def test_a_killed_sweep_is_continued_by_the_same_command(tmp_path, tiny_overrides):
    marker = tmp_path / "hanging"
    command = sweep_command(
        tiny_overrides,
        "hydra.sweeper.n_trials=3",
        "+callbacks.hang._target_=probes.HangOnceInTrial",
        "+callbacks.hang.trial=${trial.number}",
        "+callbacks.hang.hang_in=1",
        f"+callbacks.hang.marker={marker}",
    )
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(command, cwd=tmp_path, env=environment(), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "trial 1 never started"
            time.sleep(0.1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    sweep = tmp_path / "experiments" / "search" / "optuna_search"
    states = [trial.state for trial in load_study(sweep).trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING]
    first_objective = (sweep / "0" / "train.log").read_text().count("objective")

    time.sleep(2.5)  # the dead sweep's trial goes stale after the grace period
    run_sweep(command, tmp_path)

    trials = load_study(sweep).trials
    state = optuna.trial.TrialState
    assert [t.state for t in trials] == [state.COMPLETE, state.FAIL, state.COMPLETE, state.COMPLETE]
    assert trials[2].params == trials[1].params  # the interrupted trial, asked again
    assert trials[2].system_attrs["failed_trial"] == 1
    assert "fail_reason" not in trials[1].user_attrs  # interrupted, not failed by its run
    # trial 0 was kept, not trained again; each completed trial trained once, in its own folder
    assert (sweep / "0" / "train.log").read_text().count("objective") == first_objective == 1
    for number in (0, 2, 3):
        log_text = (sweep / str(number) / "train.log").read_text()
        assert log_text.count("objective") == 1
        (line,) = [line for line in log_text.splitlines() if "objective" in line]
        assert float(line.rsplit("= ", 1)[1]) == pytest.approx(trials[number].value)
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["best_value"] == max(trials[n].value for n in (0, 2, 3))

    report([str(sweep)])
    statuses = report_statuses(sweep)
    assert statuses["0"][0] == statuses["2"][0] == statuses["3"][0] == "complete"
    assert statuses["1"][0] == "failed"
    assert "interrupted" in statuses["1"][1] and "retried as trial 2" in statuses["1"][1]


def report_statuses(sweep: Path) -> dict[str, tuple[str, str]]:
    """Run folder -> (status, reason), as unpaired-report's runs.csv lists them."""
    with (sweep / "report" / "runs.csv").open() as handle:
        return {row["run"]: (row["status"], row["reason"]) for row in csv.DictReader(handle)}


def test_a_pruner_stops_a_clearly_worse_trial_which_ends_cleanly(tmp_path, tiny_overrides):
    """Two trials that learn, then one that cannot (learning rate 0): its PSNR after the first
    epoch is the untrained network's, below the median of the others, so the median pruner
    stops it there; it keeps its checkpoint and is recorded as pruned, not failed."""
    common = [
        "hydra.sweeper.params=null",  # no search: each command runs its fixed learning rate
        "trainer.max_epochs=3",
        "model.scheduler.n_epochs=3",
        "pruner=median",
        "pruner.n_startup_trials=2",
        "pruner.n_warmup_steps=0",
    ]
    run_sweep(sweep_command(tiny_overrides, *common, "hydra.sweeper.n_trials=2"), tmp_path)
    run_sweep(
        sweep_command(
            tiny_overrides, *common, "hydra.sweeper.n_trials=3", "model.optimizer.lr=0.0"
        ),
        tmp_path,
    )

    sweep = tmp_path / "experiments" / "search" / "optuna_search"
    trials = load_study(sweep).trials
    state = optuna.trial.TrialState
    assert [t.state for t in trials] == [state.COMPLETE, state.COMPLETE, state.PRUNED]
    assert list(trials[0].intermediate_values) == [0, 1, 2]
    pruned = trials[2]
    assert list(pruned.intermediate_values) == [0]  # stopped after its first epoch
    assert pruned.intermediate_values[0] < trials[0].intermediate_values[0]
    checkpoint = load_checkpoint(sweep / "2" / "checkpoints" / "last.ckpt")
    assert checkpoint["epoch"] == 0  # saved at the end of the epoch it was stopped in
    assert (sweep / "2" / "ground_truth.json").is_file()  # the run ended as runs end
    assert "trial pruned after epoch 0" in (sweep / "2" / "train.log").read_text()
    # the loggers get the trial's number and seed with the config (wandb: in the run's config)
    hparams = yaml.safe_load((sweep / "2" / "csv" / "version_0" / "hparams.yaml").read_text())
    assert (hparams["trial"]["number"], hparams["seed"]) == (2, 0)

    report([str(sweep)])
    assert report_statuses(sweep)["2"] == ("pruned", "pruned after epoch 0")
    markdown = (sweep / "report" / "report.md").read_text()
    unfinished = markdown.split("## Runs that did not complete")[1]
    assert "| 2 | 0 | 0 | pruned | pruned after epoch 0 |" in unfinished


def test_a_pruned_ddp_run_stops_on_every_process(tmp_path, tiny_overrides):
    """A trial trained by two DDP processes (trainer=ddp_cpu), told where to report as the
    sweeper tells its runs: the first process reports, the pruner stops it after its first
    epoch, and the second process stops with it (else the run would hang in a collective)."""
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="ddp", storage=storage, direction="maximize")
    for _ in range(2):  # two trials far better at every epoch
        study.add_trial(optuna.create_trial(value=30.0, intermediate_values={0: 30.0, 1: 30.0}))
    number = study.ask().number
    reporting = [f"trial.storage='{storage}'", "trial.study_name=ddp", f"trial.number={number}"]
    command = [
        sys.executable,
        "-m",
        "unpaired.cli.train",
        *tiny_overrides,
        *reporting,
        "name=ddp",
        "trainer=ddp_cpu",
        "trainer.num_sanity_val_steps=0",
        "callbacks.image_grid=null",
        "model.scheduler.n_epochs=3",
        "optimized_metric=val/gt_PSNR_AB",
        "pruner=median",
        "pruner.n_startup_trials=2",
        "pruner.n_warmup_steps=0",
    ]
    run_sweep(command, tmp_path)

    trial = load_study_named(storage, "ddp").trials[number]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [0]
    (run,) = (tmp_path / "experiments" / "ddp").iterdir()
    assert load_checkpoint(run / "checkpoints" / "last.ckpt")["epoch"] == 0

"""The sweep's loop with a launcher that trains nothing: what each run is told, the budget, the
seeds, and the trials whose runs end without reporting."""

from collections.abc import Callable, Sequence
from pathlib import Path

import optuna
import pytest
from hydra.core.utils import JobReturn, JobStatus
from optuna.trial import TrialState

from unpaired.sweeps.search_space import SearchSpace
from unpaired.sweeps.sweeper import StudySettings, StudySweep, default_storage


class FakeLauncher:
    """Launches each run as ``finish(overrides, study)``, which reports like a run (or not)."""

    def __init__(self, finish: Callable[[dict[str, str], optuna.Study], JobReturn]) -> None:
        self.finish, self.batches, self.study = finish, [], None

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int):
        self.batches.append([dict(o.split("=", 1) for o in job) for job in job_overrides])
        return [self.finish(overrides, self.study) for overrides in self.batches[-1]]


def reports_its_weight(overrides: dict[str, str], study: optuna.Study) -> JobReturn:
    study.tell(int(overrides["trial.number"]), float(overrides.get("model.lambda_A", 1.0)))
    return JobReturn(status=JobStatus.COMPLETED)


def sweep(tmp_path: Path, launcher: FakeLauncher, n_trials: int, n_jobs: int = 1, **space):
    settings = StudySettings(
        study_name="s",
        storage=default_storage(tmp_path),
        direction="maximize",
        n_trials=n_trials,
        n_jobs=n_jobs,
        heartbeat_interval=60,
        grace_period=120,
        max_retry=3,
    )
    study_sweep = StudySweep(
        settings, SearchSpace(**space), optuna.samplers.RandomSampler(seed=0), launcher
    )
    launcher.study = study_sweep.study
    return study_sweep.run()


def test_each_configuration_runs_once_per_seed_with_its_seed_and_where_to_report(tmp_path):
    launcher = FakeLauncher(reports_its_weight)
    weights = optuna.distributions.FloatDistribution(1.0, 20.0)
    space = {"distributions": {"model.lambda_A": weights}, "seeds": [0, 1, 2], "fixed": ["x=1"]}
    study = sweep(tmp_path, launcher, n_trials=6, **space)

    runs = [run for batch in launcher.batches for run in batch]
    assert [run["seed"] for run in runs] == ["0", "1", "2", "0", "1", "2"]
    assert [run["trial.number"] for run in runs] == ["0", "1", "2", "3", "4", "5"]
    assert len({run["model.lambda_A"] for run in runs[:3]}) == 1  # one configuration, 3 seeds
    assert runs[0]["model.lambda_A"] != runs[3]["model.lambda_A"]
    assert runs[0]["x"] == "1" and runs[0]["trial.study_name"] == "'s'"
    assert runs[0]["trial.storage"] == f"'sqlite:///{tmp_path / 'optuna.db'}'"
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 6


def test_the_budget_counts_what_the_study_already_holds(tmp_path):
    sweep(tmp_path, FakeLauncher(reports_its_weight), n_trials=2)
    launcher = FakeLauncher(reports_its_weight)
    study = sweep(tmp_path, launcher, n_trials=5, n_jobs=2)
    assert [len(batch) for batch in launcher.batches] == [2, 1]
    assert len(study.trials) == 5


def test_a_run_that_ends_without_reporting_fails_its_trial_with_the_runs_error(tmp_path):
    def crashes(overrides: dict[str, str], study: optuna.Study) -> JobReturn:
        return JobReturn(status=JobStatus.FAILED, _return_value=MemoryError("out of memory"))

    study = sweep(tmp_path, FakeLauncher(crashes), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 2  # counted: the sweep ends
    assert study.trials[0].user_attrs["fail_reason"] == "MemoryError: out of memory"


def test_a_failing_launcher_fails_the_trials_it_held_and_stops_the_sweep(tmp_path):
    class Broken(FakeLauncher):
        def launch(self, job_overrides, initial_job_idx):
            raise RuntimeError("sbatch: command not found")

    with pytest.raises(RuntimeError, match="sbatch"):
        sweep(tmp_path, Broken(reports_its_weight), n_trials=3)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    (trial,) = optuna.load_study(study_name="s", storage=storage).trials
    assert trial.state == TrialState.FAIL
    assert "the launcher failed: sbatch" in trial.user_attrs["fail_reason"]

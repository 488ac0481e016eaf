"""A run's side of its trial: which trial it opens, and how it ends it when the run raises."""

import optuna
import pytest
from omegaconf import OmegaConf
from optuna.trial import TrialState

from unpaired.errors import ConfigError
from unpaired.sweeps.trial import open_trial, reporting_trial


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'optuna.db'}"


@pytest.fixture
def study(url) -> optuna.Study:
    return optuna.create_study(study_name="s", storage=url)


def run_config(url: str, number: int, **extra):
    trial = {"storage": url, "study_name": "s", "number": number, "heartbeat_interval": 60}
    return OmegaConf.create({"trial": trial, "optimized_metric": "val/x", **extra})


def test_a_run_that_raises_fails_its_trial_and_an_interrupted_one_does_not(study, url):
    failing, interrupted = study.ask(), study.ask()
    with pytest.raises(ValueError), reporting_trial(run_config(url, failing.number)):
        raise ValueError("lambda_A must be positive")
    with pytest.raises(KeyboardInterrupt), reporting_trial(run_config(url, interrupted.number)):
        raise KeyboardInterrupt
    failed, running = study.trials
    assert failed.state == TrialState.FAIL
    assert failed.user_attrs["fail_reason"] == "ValueError: lambda_A must be positive"
    assert running.state == TrialState.RUNNING  # left to the heartbeat: retried if it stays so


def test_a_run_is_refused_a_trial_that_does_not_exist_or_is_finished(study, url):
    with pytest.raises(ConfigError, match="trial 5 of study 's' is not in"):
        open_trial(run_config(url, 5))
    trial = study.ask()
    study.tell(trial, state=TrialState.FAIL)
    with pytest.raises(ConfigError, match="trial 0 of study 's' is already fail"):
        open_trial(run_config(url, 0))
    with pytest.raises(ConfigError, match="optimized_metric"):
        open_trial(run_config(url, 0, optimized_metric=None))


def test_the_configured_pruner_judges_the_reports(study, url):
    for value in (1.0, 1.0):  # two finished trials that reached 1.0 after epoch 0
        study.add_trial(optuna.create_trial(value=value, intermediate_values={0: value}))
    number = study.ask().number
    pruner = {"_target_": "optuna.pruners.MedianPruner", "n_startup_trials": 2}
    trial = open_trial(run_config(url, number, pruner=pruner))
    assert trial.report(5.0, epoch=0)  # minimising: 5 is worse than the median 1
    without_pruner = open_trial(run_config(url, number))
    assert not without_pruner.report(5.0, epoch=1)

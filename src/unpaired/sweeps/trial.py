"""The side of a training run that is one trial of an Optuna study (the run's ``trial`` config,
set by the Optuna sweeper): it reports to the study the validation metric of every epoch (the
pruner's question: stop?) and, at the end, its result: complete with the objective, pruned, or
failed with the reason. Only the first process of a DDP run reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import optuna
from hydra.utils import instantiate
from lightning.fabric.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig
from optuna.trial import Trial, TrialState

from unpaired.errors import ConfigError
from unpaired.sweeps.study import FAIL_REASON, Heartbeat, open_storage


@dataclass
class StudyTrial:
    """The trial, as its run sees it: it reports, the study's pruner judges."""

    trial: Trial

    def report(self, value: float, epoch: int) -> bool:
        """Record the metric of ``epoch``; whether the pruner says to stop the run."""
        self.trial.report(value, step=epoch)
        return self.trial.should_prune()

    def complete(self, value: float) -> None:
        self.trial.study.tell(self.trial, value, skip_if_finished=True)

    def prune(self) -> None:
        self.trial.study.tell(self.trial, state=TrialState.PRUNED, skip_if_finished=True)

    def fail(self, reason: str) -> None:
        self.trial.storage.set_trial_user_attr(self.trial._trial_id, FAIL_REASON, reason)
        self.trial.study.tell(self.trial, state=TrialState.FAIL, skip_if_finished=True)


def is_trial(cfg: DictConfig) -> bool:
    """Whether this run is a trial of an Optuna study (its ``trial.number`` is set)."""
    return (cfg.get("trial") or {}).get("number") is not None


def open_trial(cfg: DictConfig) -> StudyTrial:
    """The trial ``cfg.trial`` names, judged by the pruner ``cfg.pruner`` (none: never pruned).

    Raises:
        ConfigError: no such study or trial, a trial already finished (a run started again
            after its sweep gave the trial up), or no metric to report.
    """
    spec = cfg.trial
    if cfg.get("optimized_metric") is None:
        raise ConfigError("an Optuna trial needs optimized_metric=<a logged metric> to report")
    pruner = instantiate(cfg.pruner) if cfg.get("pruner") else optuna.pruners.NopPruner()
    storage = open_storage(spec.storage)
    try:
        study = optuna.load_study(study_name=spec.study_name, storage=storage, pruner=pruner)
        study_id = storage.get_study_id_from_name(spec.study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, spec.number)
    except KeyError as error:
        raise ConfigError(
            f"trial {spec.number} of study {spec.study_name!r} is not in {spec.storage}: "
            "trial.* are set by the Optuna sweeper (hparams_search=...), not by hand"
        ) from error
    state = storage.get_trial(trial_id).state
    if state.is_finished():
        raise ConfigError(
            f"trial {spec.number} of study {spec.study_name!r} is already {state.name.lower()}: "
            "its sweep gave it up (no heartbeat for the grace period) and asked its parameters "
            "again as a new trial; run the sweep's command to continue the study"
        )
    return StudyTrial(Trial(study, trial_id))


@contextmanager
def reporting_trial(cfg: DictConfig) -> Iterator[StudyTrial | None]:
    """The run's trial while it trains (None when the run is no trial, or on a DDP process
    other than the first), its heartbeat recorded; a run that raises fails its trial with the
    error as the reason. A run stopped by a signal or Ctrl-C leaves it running: requeued, it
    continues it; else the trial goes stale and is retried (:mod:`unpaired.sweeps.study`)."""
    if not is_trial(cfg) or rank_zero_only.rank != 0:
        yield None
        return
    trial = open_trial(cfg)
    interval = cfg.trial.heartbeat_interval
    with Heartbeat(trial.trial.storage, [trial.trial._trial_id], interval):
        try:
            yield trial
        except Exception as error:
            trial.fail(f"{type(error).__name__}: {error}")
            raise

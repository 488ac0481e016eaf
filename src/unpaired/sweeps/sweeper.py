"""The loop of an Optuna sweep: ask trials, launch their runs, settle what the runs did not.

Each run reports to the study itself (:mod:`unpaired.sweeps.trial`): its metric every epoch,
where the pruner may stop it, and its result. So a run finishes its trial even when the sweep
that launched it is gone (a SLURM job outlives a killed sweep). What the loop adds: it counts the
budget from the study (trials finished by any sweep sharing it, before or now), it marks failed a
trial whose run ended without reporting (a crash before the run could say so), and it fails and
retries trials interrupted by a dead sweep (:mod:`unpaired.sweeps.study`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher
from optuna.trial import Trial, TrialState

from unpaired.sweeps.search_space import SearchSpace, override_value
from unpaired.sweeps.study import (
    FAIL_REASON,
    SEED,
    Heartbeat,
    counts_towards_budget,
    fail_stale_trials,
    open_storage,
    quiet_optuna,
)

log = logging.getLogger(__name__)


@dataclass
class StudySettings:
    """``hydra.sweeper``'s settings (conf/hydra/sweeper/optuna_study.yaml)."""

    study_name: str
    storage: str
    direction: str
    n_trials: int
    n_jobs: int
    heartbeat_interval: int
    grace_period: int
    max_retry: int | None


def default_storage(sweep_dir: Path) -> str:
    """The study's database when none is configured: a SQLite file in the sweep folder."""
    return f"sqlite:///{(sweep_dir / 'optuna.db').absolute()}"


class StudySweep:
    """One sweep over ``space``, in the study that ``settings`` name (created or continued)."""

    def __init__(
        self,
        settings: StudySettings,
        space: SearchSpace,
        sampler: optuna.samplers.BaseSampler | None,
        launcher: Launcher,
    ) -> None:
        self.settings, self.space, self.launcher = settings, space, launcher
        self.storage = open_storage(
            settings.storage, settings.heartbeat_interval, settings.grace_period, settings.max_retry
        )
        self.study = optuna.create_study(
            study_name=settings.study_name,
            storage=self.storage,
            sampler=sampler,
            direction=settings.direction,
            load_if_exists=True,
        )
        self.job_index = 0

    def finished(self) -> int:
        """Trials of the study that count towards the budget (see ``counts_towards_budget``)."""
        return sum(counts_towards_budget(t) for t in self.study.get_trials(deepcopy=False))

    def run(self) -> optuna.Study:
        """Launch batches of up to ``n_jobs`` trials until the study holds ``n_trials``."""
        done = self.finished()
        if done:
            log.info(
                "study %s: %d of %d trials already done, continuing",
                self.settings.study_name,
                done,
                self.settings.n_trials,
            )
        while True:
            fail_stale_trials(self.study)  # interrupted ones: failed, and queued again
            left = self.settings.n_trials - self.finished()
            if left <= 0:
                return self.study
            trials = [self.ask() for _ in range(min(self.settings.n_jobs, left))]
            self.launch(trials)

    def ask(self) -> Trial:
        """The next trial: a queued one (another seed of a configuration, a retried trial) or a
        new configuration from the sampler; a new configuration repeated over seeds runs the
        first seed and queues the others with the same parameters."""
        with quiet_optuna():
            trial = self.study.ask(self.space.distributions)
        if self.space.seeds and SEED not in trial.user_attrs:
            first, *others = self.space.seeds
            trial.set_user_attr(SEED, first)
            for seed in others:
                self.study.enqueue_trial(trial.params, user_attrs={SEED: seed})
        return trial

    def overrides(self, trial: Trial) -> list[str]:
        """A trial's run: the sweep's overrides, its parameters, its seed, and where to report."""
        seed = trial.user_attrs.get(SEED)
        reporting = {
            "trial.storage": self.settings.storage,
            "trial.study_name": self.settings.study_name,
            "trial.number": trial.number,
            "trial.heartbeat_interval": self.settings.heartbeat_interval,
        }
        return [
            *self.space.overrides(trial.params),
            *([] if seed is None else [f"seed={seed}"]),
            *(f"{key}={override_value(value)}" for key, value in reporting.items()),
        ]

    def launch(self, trials: Sequence[Trial]) -> None:
        """Run the trials through the launcher, beating their hearts meanwhile (a run queued on
        a cluster beats only once it starts), and settle those their runs left running."""
        ids = [trial._trial_id for trial in trials]
        with Heartbeat(self.storage, ids, self.settings.heartbeat_interval):
            try:
                returns = self.launcher.launch(
                    [self.overrides(trial) for trial in trials], initial_job_idx=self.job_index
                )
            except Exception as error:  # the launcher itself failed: no run can report
                for trial in trials:
                    self.settle(trial, None, f"the launcher failed: {error}")
                raise
        self.job_index += len(trials)
        for trial, job in zip(trials, returns, strict=True):
            self.settle(trial, job, "its run ended without reporting a result")

    def settle(self, trial: Trial, job: JobReturn | None, otherwise: str) -> None:
        """Fail ``trial`` if its run did not finish it, with the run's error as the reason."""
        if self.storage.get_trial(trial._trial_id).state != TrialState.RUNNING:
            return
        reason = otherwise
        if job is not None and job.status == JobStatus.FAILED:
            reason = f"{type(job._return_value).__name__}: {job._return_value}"
        self.storage.set_trial_user_attr(trial._trial_id, FAIL_REASON, reason)
        self.study.tell(trial, state=TrialState.FAIL)
        log.warning("trial %d failed: %s", trial.number, reason)


def best_results(study: optuna.Study) -> dict[str, Any]:
    """What ``optimization_results.yaml`` holds: the best trial's parameters and value."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return {"name": "optuna", "best_params": None, "best_value": None, "best_trial": None}
    best = study.best_trial
    return {
        "name": "optuna",
        "best_params": best.params,
        "best_value": best.value,
        "best_trial": best.number,
    }

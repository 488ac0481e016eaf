"""The Optuna studies in a folder (``optuna.db`` in a sweep folder), read from their SQLite files
only: the report needs no network, so a study in a server database is left to its log files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from unpaired.reporting.runs import COMPLETE, FAILED, INCOMPLETE, PRUNED, STUDY_FILE, Run
from unpaired.sweeps.study import fail_reason, open_storage, retried_trial_numbers

_STATUS = {
    TrialState.COMPLETE: COMPLETE,
    TrialState.PRUNED: PRUNED,
    TrialState.FAIL: FAILED,
    TrialState.RUNNING: INCOMPLETE,
}


@dataclass
class Study:
    """One study: its name, the sweep folder holding its runs, its trials."""

    name: str
    folder: Path
    direction: str
    trials: list[FrozenTrial]


def read_studies(folder: Path) -> list[Study]:
    """Every study of every ``optuna.db`` under ``folder``."""
    studies = []
    for file in sorted(folder.rglob(STUDY_FILE)):
        storage = open_storage(f"sqlite:///{file.absolute()}")
        for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
            study = optuna.load_study(study_name=summary.study_name, storage=storage)
            trials = study.get_trials(deepcopy=False)
            studies.append(Study(summary.study_name, file.parent, study.direction.name, trials))
    return studies


def apply_trial_states(runs: list[Run], studies: list[Study]) -> None:
    """Each trial's state in its study is how its run ended (a run killed with its sweep has
    no end in its log; the study knows it was interrupted, and by which trial it was retried)."""
    by_folder = {study.folder: study for study in studies}
    for run in runs:
        study = by_folder.get(run.path.parent)
        if study is None or run.trial is None or run.trial >= len(study.trials):
            continue
        trial = study.trials[run.trial]
        run.status = _STATUS.get(trial.state, run.status)
        if trial.state == TrialState.FAIL:
            run.reason = fail_reason(trial)
            retry = retried_trial_numbers(study.trials).get(trial.number)
            if retry is not None:
                run.reason += f"; retried as trial {retry}"
        elif trial.state == TrialState.RUNNING:
            run.reason = "running, or its sweep was killed (the next sweep retries it)"

"""A study's storage, the heartbeats that tell a live trial from an interrupted one, and which
trials count towards a sweep's budget.

Optuna's own ``study.optimize`` records a trial's heartbeat from a thread of the process that runs
the objective; our trials are asked by the sweeper and trained by another process (a launcher's
job), possibly on another node, so both record it (:class:`Heartbeat`): a trial goes stale only
when its sweeper and its run have both stopped, and Optuna's ``fail_stale_trials`` then marks it
failed and :class:`optuna.storages.RetryHeartbeatStaleTrialCallback` queues its parameters again.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterable, Iterator
from types import TracebackType

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

#: user attribute of a trial whose run failed by itself: the reason (an interrupted trial has none)
FAIL_REASON = "fail_reason"
#: user attribute of a trial that runs one seed of a configuration repeated over seeds
SEED = "seed"


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Without the warnings Optuna gives on every call for the pieces used here: the heartbeat's
    (experimental since Optuna 2.8) and "Heartbeat of storage is supposed to be used with
    Study.optimize" (we record the heartbeats ourselves, see above)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", "Heartbeat of storage", UserWarning)
        yield


def open_storage(
    url: str,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    max_retry: int | None = None,
) -> RDBStorage:
    """The study database at ``url``; with a heartbeat interval, trials stale for ``grace_period``
    seconds are failed and retried up to ``max_retry`` times by ``fail_stale_trials``."""
    with quiet_optuna():
        retry = None if heartbeat_interval is None else RetryHeartbeatStaleTrialCallback(max_retry)
        return RDBStorage(
            url,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=retry,
        )


def fail_stale_trials(study: optuna.Study) -> None:
    """Optuna's ``fail_stale_trials``: trials whose heartbeat stopped are failed and retried."""
    with quiet_optuna():
        optuna.storages.fail_stale_trials(study)


def counts_towards_budget(trial: FrozenTrial) -> bool:
    """Whether ``trial`` is done for the budget: complete, pruned, or failed by its own run's
    error. A trial failed for a lost heartbeat (its sweep was killed) is retried instead."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and FAIL_REASON in trial.user_attrs


def fail_reason(trial: FrozenTrial) -> str:
    """Why ``trial`` failed, in words."""
    if FAIL_REASON in trial.user_attrs:
        return str(trial.user_attrs[FAIL_REASON])
    return "interrupted: its sweep and run stopped reporting (killed, or a lost node)"


def retried_trial_numbers(trials: Iterable[FrozenTrial]) -> dict[int, int]:
    """Interrupted trial number -> the number of the trial that retried its parameters."""
    retried = {}
    for trial in trials:
        with quiet_optuna():
            history = RetryHeartbeatStaleTrialCallback.retry_history(trial)
        if history:
            retried[history[-1]] = trial.number
    return retried


class Heartbeat:
    """Records the heartbeat of some trials every ``interval`` seconds from a thread, from
    entering the ``with`` block to leaving it (a run's long validation does not block it)."""

    def __init__(self, storage: RDBStorage, trial_ids: list[int], interval: float) -> None:
        self.storage, self.trial_ids, self.interval = storage, trial_ids, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="optuna-heartbeat", daemon=True)

    def _beat(self) -> None:
        while True:
            for trial_id in self.trial_ids:
                # a busy database: the next beat comes within the grace period
                with contextlib.suppress(optuna.exceptions.StorageInternalError):
                    self.storage.record_heartbeat(trial_id)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

"""Preemption: SIGUSR1, SLURM's advance warning, stops a run like SIGTERM outside SLURM's requeue.

On SIGTERM, Lightning finishes the current batch and raises ``SIGTERMException``; the
:class:`~unpaired.callbacks.checkpoint.Checkpointing` callback then writes ``last.ckpt`` and the
train CLI exits with :data:`REQUEUE_EXIT_CODE`. Under SLURM with auto-requeue (Lightning's
default ``SLURMEnvironment``), Lightning owns SIGUSR1: it saves ``hpc_ckpt_<n>.ckpt`` into the run
folder and requeues the job with ``scontrol requeue``; the requeued job, started with
``resume=auto``, continues from whichever of that file and ``last.ckpt`` is newer. Anywhere else
SIGUSR1 would kill the process with nothing saved, so this callback makes it act as SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import lightning as L

log = logging.getLogger(__name__)

#: Exit status of a run stopped by SIGTERM or SIGUSR1 after saving: EX_TEMPFAIL ("temporary
#: failure, retry"), for a scheduler or wrapper script to requeue the run with ``resume=auto``.
REQUEUE_EXIT_CODE = 75


class SignalPreemption(L.Callback):
    """Makes SIGUSR1 stop training like SIGTERM, unless something (Lightning's SLURM requeue)
    already handles it when training starts."""

    def __init__(self) -> None:
        super().__init__()
        self._installed = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning installs its signal handlers just before training; by now we can tell.
        unhandled = signal.getsignal(signal.SIGUSR1) in (signal.SIG_DFL, None)
        if unhandled and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGUSR1, _stop_like_sigterm)
            self._installed = True

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._installed:
            signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            self._installed = False


def _stop_like_sigterm(signum: int, frame: FrameType | None) -> None:
    log.warning("received SIGUSR1: stopping after this batch, as on SIGTERM")
    os.kill(os.getpid(), signal.SIGTERM)

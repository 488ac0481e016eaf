"""Preemption: a signal makes a run save ``last.ckpt`` and exit for requeueing; the requeued
command (with ``resume=auto``) continues the same run, folder and wandb run."""

import signal
import stat
from pathlib import Path

import pytest

from unpaired.callbacks.preemption import REQUEUE_EXIT_CODE
from unpaired.utils.checkpoint import load_checkpoint
from unpaired.utils.runs import resumable_checkpoint

EPOCHS = 3
STEPS = EPOCHS * 4 * 2  # 4 batches an epoch, a G and a D update each
FIRST_SAVE = "tiny/*/checkpoints/last.ckpt"  # written after batch 2 with every_n_batches=2


# SIGUSR1 is turned into SIGTERM, so it covers both; SIGTERM alone runs in the slow suite.
@pytest.mark.parametrize(
    "signum",
    [signal.SIGUSR1, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["SIGUSR1", "SIGTERM"],
)
def test_a_signal_saves_exits_for_requeue_and_resume_continues_the_same_run(
    train_cli, signum: signal.Signals
) -> None:
    command = [f"trainer.max_epochs={EPOCHS}", "callbacks.checkpoint.every_n_batches=2"]
    run = train_cli.start(*command, "logger=wandb")
    last = train_cli.wait_for(FIRST_SAVE, run)
    first_save = last.stat().st_mtime_ns
    run.process.send_signal(signum)
    assert run.process.wait(timeout=120) == REQUEUE_EXIT_CODE
    output = run.output()
    assert "stopped by a signal: continue with the same command plus resume=auto" in output
    assert last.stat().st_mtime_ns > first_save  # saved again on the signal
    assert 4 <= load_checkpoint(last)["global_step"] < STEPS

    status, output = train_cli.run(*command, "logger=wandb", "resume=auto")
    assert status == 0, output
    [folder] = train_cli.runs()  # the same run folder
    assert load_checkpoint(last)["global_step"] == STEPS
    assert "resume" not in (folder / ".hydra" / "overrides.yaml").read_text()  # kept as it was
    assert len(list((folder / ".hydra").glob("resumed_*/overrides.yaml"))) == 1
    wandb_runs = sorted((folder / "wandb").glob("offline-run-*"))
    assert len(wandb_runs) == 2
    assert len({path.name.rsplit("-", 1)[1] for path in wandb_runs}) == 1  # one wandb run id


@pytest.mark.slow
def test_lightning_slurm_requeue_works_with_our_config(train_cli, tmp_path: Path) -> None:
    """Under SLURM, Lightning's auto-requeue owns SIGUSR1: it saves hpc_ckpt_1.ckpt into the run
    folder and calls ``scontrol requeue``; the SIGTERM that follows saves last.ckpt, and the
    requeued job's resume=auto picks the newer of the two."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "scontrol_calls"
    bin_dir.mkdir()
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    scontrol.chmod(scontrol.stat().st_mode | stat.S_IEXEC)
    slurm = {
        "PATH": f"{bin_dir}:{train_cli.env['PATH']}",
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NAME": "unpaired",
        "SLURM_NTASKS": "1",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODEID": "0",
    }
    run = train_cli.start(
        "trainer.max_epochs=100", "callbacks.checkpoint.every_n_batches=2", "logger=csv", env=slurm
    )
    train_cli.wait_for(FIRST_SAVE, run)
    run.process.send_signal(signal.SIGUSR1)
    hpc = train_cli.wait_for("tiny/*/hpc_ckpt_1.ckpt", run)
    assert run.process.poll() is None  # Lightning's requeue handler saves and lets the job run on
    run.process.send_signal(signal.SIGTERM)
    assert run.process.wait(timeout=120) == REQUEUE_EXIT_CODE
    assert calls.read_text().split() == ["requeue", "4242"]
    assert load_checkpoint(hpc)["global_step"] > 0
    assert resumable_checkpoint(hpc.parent) == hpc.parent / "checkpoints" / "last.ckpt"

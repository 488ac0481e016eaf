"""A run killed with SIGKILL and resumed with ``resume=auto`` ends exactly where an
uninterrupted run of the same seed ends: same weights, bit for bit, on the CPU with
deterministic algorithms. It resumes from the last epoch-end checkpoint (test_resume_mid_epoch.py
kills a run in the middle of an epoch)."""

import signal

import pytest
import torch

from unpaired.utils.checkpoint import load_checkpoint

EPOCHS = 4
STEPS = EPOCHS * 4 * 2  # 4 batches an epoch, a G and a D update each


# One persistent data worker (the default), started once per session: the loader draws its seed
# from a generator of its own, so the restored torch RNG goes on as in the uninterrupted run.
# Without workers: the same mechanism, run in the slow suite.
@pytest.mark.parametrize("workers", [1, pytest.param(0, marks=pytest.mark.slow)])
def test_a_killed_run_resumed_ends_with_the_weights_of_an_uninterrupted_one(
    train_cli, workers: int
) -> None:
    common = [
        f"trainer.max_epochs={EPOCHS}",
        "trainer.deterministic=true",
        "callbacks.checkpoint.every_n_batches=0",  # last.ckpt at epoch ends only
        f"data.num_workers={workers}",
        "logger=csv",
    ]
    status, output = train_cli.run(*common, "name=reference")
    assert status == 0, output

    killed = train_cli.start(*common)
    last = train_cli.wait_for("tiny/*/checkpoints/last.ckpt", killed)
    killed.process.send_signal(signal.SIGKILL)
    assert killed.process.wait(timeout=60) == -signal.SIGKILL
    assert load_checkpoint(last)["global_step"] < STEPS  # it really was cut short

    status, output = train_cli.run(*common, "resume=auto")
    assert status == 0, output
    assert f"resuming from {last}" in output
    assert train_cli.runs() == [last.parents[1]]  # one run, one folder

    [reference_run] = train_cli.runs("reference")
    expected = load_checkpoint(reference_run / "checkpoints" / "last.ckpt")
    resumed = load_checkpoint(last)
    assert resumed["global_step"] == expected["global_step"] == STEPS
    for key, value in expected["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key
    for domain in ("A", "B"):
        pools = expected["image_pools"][domain]["images"], resumed["image_pools"][domain]["images"]
        assert all(torch.equal(a, b) for a, b in zip(*pools, strict=True))

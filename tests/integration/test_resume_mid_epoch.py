"""A run killed in the middle of an epoch and resumed trains on exactly the items, in exactly the
order, that an uninterrupted run of the same seed trains on, and ends with its weights bit for
bit: the resumed epoch goes on after the batches the checkpoint had already trained on (not from
the epoch's start), and the random stream the history pools draw from goes on where it stopped."""

import json
import signal
import time
from pathlib import Path

import pytest
import torch

from unpaired.utils.checkpoint import load_checkpoint

BATCHES_PER_EPOCH = 4  # the tiny set's 4 training images, batch 1
KILLED_AT = (1, 2)  # (epoch, batch): killed before the third batch of the second epoch


def recorded(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def recording_to(path: Path) -> list[str]:
    return ["+callbacks.items._target_=probes.RecordItems", f"+callbacks.items.path={path}"]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_run_killed_mid_epoch_resumes_with_the_items_it_had_not_trained_on(
    train_cli, tmp_path: Path, workers: int
) -> None:
    common = [
        "trainer.max_epochs=2",
        "trainer.deterministic=true",
        "callbacks.checkpoint.every_n_batches=1",  # last.ckpt after every batch
        f"data.num_workers={workers}",  # persistent workers (the default) when there are any
        "model.pool_size=2",  # full after two batches: each later batch draws from the RNG
        "logger=csv",
    ]
    status, output = train_cli.run(*common, "name=reference", *recording_to(tmp_path / "ref"))
    assert status == 0, output

    marker = tmp_path / "hanging"
    killed = train_cli.start(
        *common,
        *recording_to(tmp_path / "killed"),
        "+callbacks.hang._target_=probes.HangAtBatch",
        f"+callbacks.hang.epoch={KILLED_AT[0]}",
        f"+callbacks.hang.batch={KILLED_AT[1]}",
        f"+callbacks.hang.marker={marker}",
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert killed.process.poll() is None, killed.output()
        assert time.monotonic() < deadline, "the run never reached the batch to kill it at"
        time.sleep(0.05)
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait(timeout=60)
    [run] = train_cli.runs()
    last = run / "checkpoints" / "last.ckpt"
    trained = BATCHES_PER_EPOCH * KILLED_AT[0] + KILLED_AT[1]
    assert load_checkpoint(last)["global_step"] == 2 * trained  # mid-epoch: G and D per batch

    status, output = train_cli.run(*common, "resume=auto", *recording_to(tmp_path / "resumed"))
    assert status == 0, output
    assert f"resuming from {last}" in output

    reference = recorded(tmp_path / "ref")
    before_kill = [r for r in recorded(tmp_path / "killed") if (r["epoch"], r["batch"]) < KILLED_AT]
    assert before_kill == reference[:trained]
    assert recorded(tmp_path / "resumed") == reference[trained:]

    [reference_run] = train_cli.runs("reference")
    expected = load_checkpoint(reference_run / "checkpoints" / "last.ckpt")["state_dict"]
    resumed = load_checkpoint(last)["state_dict"]
    for key, value in expected.items():
        assert torch.equal(resumed[key], value), key

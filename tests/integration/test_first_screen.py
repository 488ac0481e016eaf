"""What `make train` shows a user, captured as a log file (not a terminal) and as a terminal
(a pseudo-terminal): the run in one block, no third-party chatter, progress, and an ending with
the next commands filled in with this run's checkpoint."""

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
#: What `make train` runs, cut to two training batches.
COMMAND = [
    "experiment=cyclegan/synthetic",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
    "trainer.max_epochs=1",
    "callbacks.progress.every_n_steps=1",
]
CHATTER = [
    "Tip:",  # Lightning's advertisement for its cloud logger
    "anonymous setting",  # wandb's warning about an argument Lightning always passes
    "was configured so 100%",  # Lightning on limit_*_batches=1.0
    "FLOPs",  # the model summary's column of zeros
    "LeafSpec",  # a deprecation warning from inside Lightning
    "available: False",  # Lightning's device lines (the start block names the device)
    "_target_:",  # the composed config (saved in the run folder; print_config=true shows it)
    "You can sync this run",  # wandb's own offline banner (the ending gives the command)
]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}


def train_command(root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "unpaired.cli.train",
        *COMMAND,
        f"paths.data_dir={root / 'data'}",
        f"paths.experiments_dir={root / 'experiments'}",
    ]


def as_a_log_file(root: Path) -> str:
    result = subprocess.run(
        train_command(root), cwd=root, env=environment(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def in_a_terminal(root: Path) -> str:
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        train_command(root), cwd=root, env=environment(), stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=300) == 0
    return ANSI.sub("", b"".join(chunks).decode(errors="replace"))


@pytest.mark.parametrize("capture", [as_a_log_file, in_a_terminal])
def test_make_train_shows_the_run_its_progress_and_what_to_do_next(tmp_path: Path, capture):
    screen = capture(tmp_path)
    for chatter in CHATTER:
        assert chatter not in screen, chatter
    [run] = (tmp_path / "experiments" / "cyclegan_synthetic_demo").iterdir()
    start = screen.index("method  CycleGAN (preset cyclegan/synthetic)")
    assert str(run.relative_to(tmp_path)) in screen[:start]  # the run's folder, first
    assert "G_AB  ResnetGenerator, 1,965,059 parameters" in screen
    if capture is as_a_log_file:
        assert re.search(r"epoch 1/1  batch 1/2  [\d.]+ it/s .* left  G [\d.]+  D [\d.]+", screen)
        assert re.search(r"epoch 1/1 done: 2 batches in .* gt_L1_AB [\d.]+", screen)
    else:
        assert re.search(r"Epoch 0/0 .* 2/2 .*it/s G: [\d.]+ D: [\d.]+", screen)
    ending = screen[screen.index("Done.") :]
    best = run.relative_to(tmp_path) / "checkpoints" / "best.ckpt"
    assert (tmp_path / best).is_file()
    assert f"wandb sync {run.relative_to(tmp_path)}/wandb/offline-run-" in ending
    assert f"unpaired-translate ckpt={best} input=data/synthetic/testA" in ending
    assert f"unpaired-evaluate ckpt={best} data=synthetic data.root=data/synthetic" in ending

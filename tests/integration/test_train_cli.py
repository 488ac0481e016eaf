"""The Hydra entry point end to end, in a fresh process as a user runs it."""

import csv
import json
from pathlib import Path

EXPECTED_LOSSES = {"train/G", "train/G_adv_AB", "train/cycle_A", "train/idt_B", "train/D_B"}


def only_run_folder(experiments: Path, name: str) -> Path:
    (run,) = [p for p in (experiments / name).iterdir() if p.is_dir()]
    return run


def test_fast_dev_run_through_the_entry_point(tmp_path, tiny_overrides, run_cli):
    result = run_cli("train", [*tiny_overrides, "debug=fast_dev_run", "name=smoke"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run_folder(tmp_path / "experiments", "smoke")
    assert (run / ".hydra" / "config.yaml").is_file()
    assert (tmp_path / "data" / "synthetic" / "trainA").is_dir()  # generated on first use


def test_a_run_writes_checkpoints_samples_metrics_and_the_ground_truth_report(
    tmp_path, tiny_overrides, run_cli
):
    overrides = [o for o in tiny_overrides if not o.startswith("logger=")]
    overrides += ["logger=[csv,tensorboard]", "name=short"]
    result = run_cli("train", overrides, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run_folder(tmp_path / "experiments", "short")
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))

    assert (run / "checkpoints" / "last.ckpt").is_file()
    samples = {p.name for p in (run / "samples").iterdir()}
    assert {"train_step0000000.png", "val_epoch0000.png"} <= samples

    with open(run / "csv" / "version_0" / "metrics.csv") as f:
        logged = set(next(csv.reader(f)))
    assert EXPECTED_LOSSES | {"lr/G", "lr/D", "val/G", "val/gt_L1_AB", "val/gt_PSNR_BA"} <= logged

    report = json.loads((run / "ground_truth.json").read_text())
    assert set(report) == {"start", "end"}
    assert set(report["end"]) == {"epoch", "L1_AB", "L1_BA", "PSNR_AB", "PSNR_BA"}
    assert "Error against the true translation" in result.stdout


def test_wandb_logs_offline_without_a_network_or_a_prompt(tmp_path, tiny_overrides, run_cli):
    overrides = [*tiny_overrides, "logger=wandb", "name=tracked", "trainer.limit_train_batches=2"]
    result = run_cli("train", overrides, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run_folder(tmp_path / "experiments", "tracked")
    offline_runs = list((run / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1
    assert list(offline_runs[0].glob("*.wandb")), (
        "the offline run must hold its log for `wandb sync`"
    )


def test_missing_paper_data_fails_at_once_with_how_to_get_it(tmp_path, run_cli):
    overrides = [
        "experiment=cyclegan/horse2zebra",
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.experiments_dir={tmp_path / 'experiments'}",
        "logger=null",
    ]
    result = run_cli("train", overrides, cwd=tmp_path)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "horse2zebra" in output and "not found" in output
    assert "horse2zebra.zip" in output or "unpaired-download horse2zebra" in output
    assert "Traceback" not in output


def test_a_bad_value_caught_by_a_constructor_is_one_line_and_status_2(
    tmp_path, tiny_overrides, run_cli
):
    result = run_cli("train", [*tiny_overrides, "data.preprocess=zoom"], cwd=tmp_path)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "data.preprocess" in output and "zoom" in output
    assert "Traceback" not in output and "InstantiationException" not in output

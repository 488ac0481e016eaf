"""``unpaired-report`` on a multirun of 2 configurations x 3 seeds: the table's means and standard
deviations are those of the values in the runs' own logs."""

import csv
import statistics
from pathlib import Path

import pytest

from unpaired.cli.report import main as report

FAST = [
    "trainer.num_sanity_val_steps=0",
    "callbacks.image_grid=null",
    "model.scheduler.n_epochs=2",  # two validations: a best epoch to find
    "name=seeds",
]


def logged(run: Path, metric: str) -> dict[int, float]:
    """{epoch: value} of ``metric`` in the run's CSV log, read without the report's code."""
    with (run / "csv" / "version_0" / "metrics.csv").open() as handle:
        return {
            int(row["epoch"]): float(row[metric]) for row in csv.DictReader(handle) if row[metric]
        }


def test_report_of_two_configurations_over_three_seeds(tmp_path, tiny_overrides, run_cli):
    args = ["-m", *tiny_overrides, *FAST, "model.lambda_A=5,10", "seed=0,1,2"]
    result = run_cli("train", args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "experiments" / "seeds").glob("multirun_*")

    report([str(sweep)])

    by_weight: dict[str, list[Path]] = {}
    for run in sorted(p for p in sweep.iterdir() if p.name.isdigit()):
        overrides = (run / ".hydra" / "overrides.yaml").read_text()
        weight = "5" if "model.lambda_A=5\n" in overrides else "10"
        by_weight.setdefault(weight, []).append(run)
    assert sorted(len(runs) for runs in by_weight.values()) == [3, 3]

    with (sweep / "report" / "report.csv").open() as handle:
        rows = {row["model.lambda_A"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"5", "10"}  # grouped by the differing override, seed left out
    for weight, runs in by_weight.items():
        row = rows[weight]
        assert (row["runs"], row["seeds"]) == ("3", "0 1 2")
        psnr = [logged(run, "val/gt_PSNR_AB") for run in runs]
        finals = [values[max(values)] for values in psnr]
        assert float(row["val/gt_PSNR_AB"]) == pytest.approx(statistics.fmean(finals))
        assert float(row["val/gt_PSNR_AB std"]) == pytest.approx(statistics.stdev(finals))
        assert statistics.stdev(finals) > 0  # the seeds made different runs
        l1 = [logged(run, "val/gt_L1_AB") for run in runs]
        bests = [min(values.values()) for values in l1]
        assert float(row["val/gt_L1_AB best"]) == pytest.approx(statistics.fmean(bests))
        assert float(row["val/gt_L1_AB best std"]) == pytest.approx(statistics.stdev(bests))
        epochs = [min(e for e, v in values.items() if v == min(values.values())) for values in l1]
        assert row["val/gt_L1_AB best epochs"] == " ".join(map(str, epochs))
        assert float(row["wall time s"]) > 0

    markdown = (sweep / "report" / "report.md").read_text()
    mean, std = float(rows["5"]["val/gt_PSNR_AB"]), float(rows["5"]["val/gt_PSNR_AB std"])
    assert f"{mean:.4g} ± {std:.4g}" in markdown
    assert (sweep / "report" / "val_gt_PSNR_AB.png").stat().st_size > 0

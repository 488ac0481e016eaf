"""Grouping runs by configuration: which overrides make a configuration, the best value and its
epoch, and which runs enter the means."""

from pathlib import Path

import pytest

from unpaired.reporting.runs import COMPLETE, PRUNED, Run, ending, parse_overrides
from unpaired.reporting.table import best, final, rows, summarize


def run(name: str, seed: int, weight: str, psnr: dict[int, float], status=COMPLETE) -> Run:
    overrides = {"name": "x", "model.lambda_A": weight, "seed": str(seed), "trial.number": name}
    series = {"val/gt_PSNR_AB": psnr, "val/gt_L1_AB": {e: 1 / v for e, v in psnr.items()}}
    return Run(Path(name), overrides, seed, series=series, status=status)


def test_best_is_the_highest_psnr_and_the_lowest_error_with_its_first_epoch():
    r = run("0", 0, "5", {0: 9.0, 1: 11.0, 2: 10.0, 3: 11.0})
    assert best(r, "val/gt_PSNR_AB") == (11.0, 1)
    assert best(r, "val/gt_L1_AB") == (pytest.approx(1 / 11), 1)
    assert final(r, "val/gt_PSNR_AB") == 11.0  # the last epoch's


def test_runs_group_by_their_overrides_less_seed_and_trial_and_unfinished_runs_stay_out():
    runs = [
        run("0", 0, "5", {0: 9.0, 1: 10.0}),
        run("1", 1, "5", {0: 9.0, 1: 12.0}),
        run("2", 0, "10", {0: 8.0, 1: 8.5}),
        run("3", 1, "10", {0: 1.0}, status=PRUNED),
    ]
    summary = summarize(runs)
    assert summary.differing == ["model.lambda_A"]  # not seed, not trial.number
    assert [r.path.name for r in summary.unfinished] == ["3"]
    table = {row.group.overrides["model.lambda_A"]: row for row in rows(summary)}
    assert table["5"].stats["val/gt_PSNR_AB"].mean == 11.0
    assert table["5"].stats["val/gt_PSNR_AB"].std == pytest.approx(2**0.5)  # n - 1
    one = table["10"].stats["val/gt_PSNR_AB"]
    assert (one.mean, one.n, one.std) == (8.5, 1, None)


def test_overrides_and_the_end_of_a_log():
    assert parse_overrides(["+a=1", "~b", "c=x=y"]) == {"a": "1", "b": "~", "c": "x=y"}
    error = "[2026-11-30 10:00:00,000][unpaired.cli.common][ERROR] - bad value"
    assert ending(["[t][m][INFO] - start", error]) == ("failed", "bad value")
    assert ending(["[t][m][INFO] - Done."])[0] == "complete"
    assert ending(["[t][m][INFO] - trial pruned after epoch 3: x"])[1] == "pruned after epoch 3"
    assert ending(["[t][m][INFO] - start"])[0] == "incomplete"

"""``unpaired-report <folder>``: every training run under a folder (a run, a multirun, an Optuna
study, a whole ``experiments/``) in one table, grouped by configuration with mean ± std over
seeds, printed and written as CSV and Markdown, with PNG plots (README "Sweeps").

    unpaired-report experiments/cyclegan_synthetic/multirun_2026-11-30_12-00-00
    unpaired-report experiments/search/optuna_search --metric 'val/gt_PSNR_*' --output report/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.screen import quiet_third_parties
from unpaired.errors import ConfigError
from unpaired.reporting import plots
from unpaired.reporting.render import print_tables, write_csv, write_markdown, write_runs_csv
from unpaired.reporting.runs import find_runs, read_run
from unpaired.reporting.studies import apply_trial_states, read_studies
from unpaired.reporting.table import DEFAULT_METRICS, summarize


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unpaired-report",
        description="Every training run under FOLDER in one table: the overrides that differ, "
        "final and best value of each validation metric, ground-truth errors, FID/KID, wall "
        "time; grouped by configuration with mean ± std over seeds. Reads only the runs' files.",
    )
    parser.add_argument("folder", type=Path, help="a run, sweep or study folder, or experiments/")
    parser.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        help="per-epoch metrics to show, glob patterns, repeatable (default: "
        f"{' '.join(DEFAULT_METRICS)}; all val/* if those match none)",
    )
    parser.add_argument(
        "--output", type=Path, help="where to write the files (default: FOLDER/report)"
    )
    return parser


def report(args: argparse.Namespace) -> Path:
    """Read, summarise, print and write; returns the folder written to."""
    root = args.folder.expanduser().absolute()
    runs = [read_run(path) for path in find_runs(root)]
    if not runs:
        raise ConfigError(f"no training runs under {root} (a run folder has .hydra/config.yaml)")
    studies = read_studies(root)
    apply_trial_states(runs, studies)
    summary = summarize(runs, args.metrics or DEFAULT_METRICS)
    output = (args.output or root / "report").expanduser().absolute()
    output.mkdir(parents=True, exist_ok=True)
    # a wide table: a file or a pipe gets 200 columns, not rich's 80
    console = Console(width=None if sys.stdout.isatty() else 200)
    print_tables(summary, root, console)
    write_csv(summary, output / "report.csv")
    write_markdown(summary, root, output / "report.md")
    write_runs_csv(summary, runs, root, output / "runs.csv")
    if plots.available():
        figures = plots.plot_series(summary, output)
        for study in studies:
            figures += plots.plot_study(study, output)
        console.print(f"{len(figures)} plots in {output}")
    else:
        console.print("no plots: they need matplotlib (pip install 'unpaired[plots]')")
    unlogged = [run for run in runs if not run.series]
    if unlogged:
        console.print(
            f"{len(unlogged)} of {len(runs)} runs have no per-epoch metrics: unpaired-report "
            "reads the CSV logger's file (logger=[wandb,csv] or logger=csv when training)"
        )
    console.print(f"written: {output / 'report.csv'}, report.md, runs.csv")
    return output


def main(argv: list[str] | None = None) -> None:
    quiet_third_parties()
    run_reporting_user_errors(report, parser().parse_args(argv))


if __name__ == "__main__":
    main()

"""Runs grouped by configuration, each number as mean ± standard deviation over the group's seeds.

A configuration is a run's overrides less ``seed`` and what the Optuna sweeper adds to say where
to report (``trial.*``); the columns show the overrides that differ between the runs. Only runs
that completed enter the means; the others are listed apart with how they ended.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch

from unpaired.reporting.runs import COMPLETE, Run

#: overrides that tell runs of one configuration apart without changing it
NOT_CONFIGURATION = ("seed", "trial.*", "hydra.*")
DEFAULT_METRICS = ("val/gt_*", "val/fid_*", "val/kid_*")


@dataclass
class Stat:
    """Mean and sample standard deviation (n - 1; None for one value) of some runs' values."""

    mean: float
    std: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat | None:
        if not values:
            return None
        std = statistics.stdev(values) if len(values) > 1 else None
        return cls(statistics.fmean(values), std, len(values))


@dataclass
class Group:
    """The completed runs of one configuration (``overrides``: its values of the differing
    overrides)."""

    overrides: dict[str, str]
    runs: list[Run]

    @property
    def seeds(self) -> list[int | None]:
        return [run.seed for run in self.runs]


@dataclass
class Summary:
    differing: list[str]
    series: list[str]
    scalars: list[str]
    groups: list[Group]
    unfinished: list[Run]


def higher_is_better(metric: str) -> bool:
    """PSNR and SSIM grow with quality; errors, distances (FID, KID) and losses shrink."""
    return "PSNR" in metric or "SSIM" in metric


def is_configuration(key: str) -> bool:
    return not any(fnmatch(key, pattern) for pattern in NOT_CONFIGURATION)


def differing_overrides(runs: Iterable[Run]) -> list[str]:
    """The configuration overrides whose value is not the same in every run (a missing one
    counts as a value), in the order first typed."""
    runs = list(runs)
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.overrides if k not in keys and is_configuration(k)]
    return [k for k in keys if len({run.overrides.get(k) for run in runs}) > 1]


def summarize(runs: Sequence[Run], metric_patterns: Sequence[str] = DEFAULT_METRICS) -> Summary:
    """Group ``runs`` by configuration; ``metric_patterns`` choose the per-epoch metrics shown
    (all ``val/*`` if the defaults match none)."""
    logged = sorted({name for run in runs for name in run.series})
    series = [m for m in logged if any(fnmatch(m, p) for p in metric_patterns)]
    if not series and tuple(metric_patterns) == DEFAULT_METRICS:
        series = [m for m in logged if m.startswith("val/")]
    # gt/<error> (ground_truth.json, at the end) is the last epoch's val/gt_<error> when shown
    shown = {m.removeprefix("val/gt_") for m in series if m.startswith("val/gt_")}
    scalars = sorted(
        {name for run in runs for name in run.scalars if name.removeprefix("gt/") not in shown}
    )
    differing = differing_overrides(runs)
    groups: dict[tuple[str | None, ...], Group] = {}
    for run in runs:
        if run.status != COMPLETE:
            continue
        key = tuple(run.overrides.get(k) for k in differing)
        overrides = {k: run.overrides.get(k, "") for k in differing}
        groups.setdefault(key, Group(overrides, [])).runs.append(run)
    unfinished = [run for run in runs if run.status != COMPLETE]
    return Summary(differing, series, scalars, list(groups.values()), unfinished)


def final(run: Run, metric: str) -> float | None:
    """The metric's value at the run's last epoch that logged it."""
    values = run.series.get(metric)
    return values[max(values)] if values else None


def best(run: Run, metric: str) -> tuple[float, int] | None:
    """The metric's best value over the run's epochs, and its epoch (the first, on a tie)."""
    values = run.series.get(metric)
    if not values:
        return None
    choose = max if higher_is_better(metric) else min
    value = choose(values.values())
    return value, min(e for e, v in values.items() if v == value)


@dataclass
class Row:
    """One group's numbers, by column name: ``<metric>`` (final value), ``<metric> best``,
    ``<scalar>``, ``wall time s``; ``best_epochs``: the best epoch of each run."""

    group: Group
    stats: dict[str, Stat | None]
    best_epochs: dict[str, list[int]]


def rows(summary: Summary) -> list[Row]:
    result = []
    for group in summary.groups:
        stats: dict[str, Stat | None] = {}
        epochs: dict[str, list[int]] = {}
        for metric in summary.series:
            finals = [v for run in group.runs if (v := final(run, metric)) is not None]
            bests = [b for run in group.runs if (b := best(run, metric)) is not None]
            stats[metric] = Stat.of(finals)
            stats[f"{metric} best"] = Stat.of([value for value, _ in bests])
            epochs[metric] = [epoch for _, epoch in bests]
        for name in summary.scalars:
            stats[name] = Stat.of([run.scalars[name] for run in group.runs if name in run.scalars])
        times = [run.wall_time_s for run in group.runs if run.wall_time_s is not None]
        stats["wall time s"] = Stat.of(times)
        result.append(Row(group, stats, epochs))
    return result

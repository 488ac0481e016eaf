"""The record a benchmark writes (JSON) and the table it prints, from its modes' figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.table import Table

from unpaired.bench.workers import ModeFigures


def mode_record(figures: ModeFigures, peak_flops: float) -> dict[str, Any]:
    """One mode's figures as plain values; rates are medians with their range over windows."""
    steps = figures.steps_per_second
    images = steps.scaled(figures.images_per_step)
    achieved = figures.flops_per_step * steps.median
    return {
        "name": figures.name,
        "steps_per_second": _range(steps),
        "images_per_step": figures.images_per_step,
        "images_per_second": _range(images),
        "seconds_per_step": 1 / steps.median,
        "steps_per_window": figures.steps_per_window,
        "first_step_seconds": figures.first_step_seconds,
        "flops_per_step": figures.flops_per_step,
        "flops_per_second": achieved,
        "utilization": achieved / peak_flops,
        "peak_memory_bytes": figures.peak_memory_bytes,
        "memory_kind": figures.memory_kind,
        "data_wait_fraction": figures.data_wait_fraction,
        "threads": figures.threads,
    }


def speedups(modes: Sequence[Mapping[str, Any]], baseline: str = "reference") -> dict[str, float]:
    """Each mode's median images per second over the ``baseline`` mode's (over the first mode's
    if there is no baseline mode): images, since modes may differ in their batch size."""
    rates = {mode["name"]: mode["images_per_second"]["median"] for mode in modes}
    base = rates.get(baseline, next(iter(rates.values())))
    return {name: rate / base for name, rate in rates.items()}


def figures_table(
    title: str, modes: Sequence[Mapping[str, Any]], step: str, data_wait: bool
) -> Table:
    """The modes side by side; ``step`` names the unit of the rates (``it`` or ``batch``);
    ``data_wait`` adds the share of the time spent waiting for data."""
    ratios = speedups(modes)
    table = Table(title=title, box=box.SIMPLE_HEAD)
    columns = (
        "mode",
        f"{step}/s",
        "range",
        "images/s",
        "vs reference" if "reference" in ratios else "vs first",
        "1st step s",
        "GFLOP/step",
        "GFLOP/s",
        "of peak",
        "peak mem",
        *(["data wait"] if data_wait else []),
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "mode" else "right")
    for mode in modes:
        steps = mode["steps_per_second"]
        table.add_row(
            mode["name"],
            _rate(steps["median"]),
            f"{_rate(steps['low'])}-{_rate(steps['high'])}",
            _rate(mode["images_per_second"]["median"]),
            f"{ratios[mode['name']]:.2f}x",
            f"{mode['first_step_seconds']:.1f}",
            f"{mode['flops_per_step'] / 1e9:.1f}",
            f"{mode['flops_per_second'] / 1e9:.1f}",
            f"{mode['utilization']:.0%}",
            f"{mode['peak_memory_bytes'] / 2**30:.2f} GiB",
            *([f"{mode['data_wait_fraction']:.0%}"] if data_wait else []),
        )
    return table


def _range(throughput: Any) -> dict[str, float]:
    return {"median": throughput.median, "low": throughput.low, "high": throughput.high}


def _rate(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"

"""The report's PNG figures: each shown metric per epoch, one line per configuration (the mean
over its seeds, shaded ± one standard deviation); and for an Optuna study, the objective against
each searched parameter. matplotlib is an optional dependency (``pip install unpaired[plots]``)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from optuna.trial import TrialState

from unpaired.reporting.studies import Study
from unpaired.reporting.table import Summary


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _integer_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator


def file_name(*parts: str) -> str:
    return re.sub(r"[^\w.-]+", "_", "_".join(parts)).strip("_") + ".png"


def plot_series(summary: Summary, folder: Path) -> list[Path]:
    """One figure per metric of ``summary.series``."""
    plt = _pyplot()
    MaxNLocator = _integer_locator()
    written = []
    for metric in summary.series:
        figure, axes = plt.subplots(figsize=(7, 4.5))
        for group in summary.groups:
            per_epoch: dict[int, list[float]] = {}
            for run in group.runs:
                for epoch, value in run.series.get(metric, {}).items():
                    per_epoch.setdefault(epoch, []).append(value)
            if not per_epoch:
                continue
            epochs = sorted(per_epoch)
            means = [statistics.fmean(per_epoch[e]) for e in epochs]
            stds = [_std(per_epoch[e]) for e in epochs]
            label = " ".join(f"{k}={v}" for k, v in group.overrides.items()) or "all runs"
            (line,) = axes.plot(epochs, means, marker="o", label=f"{label} (n={len(group.runs)})")
            low = [m - s for m, s in zip(means, stds, strict=True)]
            high = [m + s for m, s in zip(means, stds, strict=True)]
            axes.fill_between(epochs, low, high, color=line.get_color(), alpha=0.2)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(metric)
        axes.set_title("mean ± std over seeds")
        axes.legend(fontsize="small")
        axes.grid(alpha=0.3)
        path = folder / file_name(metric)
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def plot_study(study: Study, folder: Path) -> list[Path]:
    """The objective of the complete trials (dots) and the last reported value of the pruned
    ones (crosses) against each searched parameter."""
    plt = _pyplot()
    params = sorted({name for trial in study.trials for name in trial.params})
    written = []
    for param in params:
        figure, axes = plt.subplots(figsize=(6, 4))
        for state, marker in ((TrialState.COMPLETE, "o"), (TrialState.PRUNED, "x")):
            points = [
                (trial.params[param], _value(trial))
                for trial in study.trials
                if trial.state == state and param in trial.params and _value(trial) is not None
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                axes.scatter(xs, ys, marker=marker, label=state.name.lower())
        axes.set_xlabel(param)
        if any(getattr(t.distributions.get(param), "log", False) for t in study.trials):
            axes.set_xscale("log")  # searched on a log scale (tag(log, ...))
        axes.set_ylabel(f"objective ({study.direction.lower()})")
        axes.set_title(f"study {study.name}")
        axes.legend(fontsize="small")
        axes.grid(alpha=0.3)
        path = folder / file_name("study", study.name, param)
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def _std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _value(trial) -> float | None:
    if trial.state == TrialState.COMPLETE:
        return trial.value
    values = trial.intermediate_values
    return values[max(values)] if values else None

"""What one training run wrote, read back: its overrides and seed (``.hydra/``), its metrics per
epoch (the CSV logger's ``metrics.csv``), its errors against the true translation
(``ground_truth.json``), its evaluations (``evaluation/*/results.json``), its wall time and how
it ended (``train.log``; for a trial of an Optuna study, the study's SQLite file beside it)."""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from unpaired.errors import ConfigError

COMPLETE, PRUNED, FAILED, INCOMPLETE = "complete", "pruned", "failed", "incomplete"
#: the Optuna study's file in a sweep folder (conf/hydra/sweeper/optuna_study.yaml)
STUDY_FILE = "optuna.db"
_LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")
_LOG_ERROR = re.compile(r"^\[[^]]+\]\[[^]]+\]\[ERROR\] - (.*)")
_TRANSLATION = re.compile(r"(\w+?)to(\w+)")


@dataclass
class Run:
    """One run. ``series``: metric -> {epoch: value} of the metrics logged once per epoch;
    ``scalars``: single numbers (ground truth at the end, evaluations); ``status`` one of
    complete, pruned, failed, incomplete (killed, or still running), with ``reason``."""

    path: Path
    overrides: dict[str, str]
    seed: int | None
    trial: int | None = None
    series: dict[str, dict[int, float]] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    wall_time_s: float | None = None
    status: str = INCOMPLETE
    reason: str = ""


def find_runs(folder: Path) -> list[Path]:
    """Every training run under ``folder`` (itself included): a folder whose ``.hydra/``
    config is a training's (it has a trainer); evaluations inside runs are not runs."""
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder: give the folder of a run, sweep or study")
    found = []
    for root, dirs, _ in os.walk(folder):
        path = Path(root)
        if _is_training(path):
            found.append(path)
            dirs.clear()  # a run's subfolders (evaluation/, wandb/) hold no runs
        else:
            dirs[:] = sorted(d for d in dirs if d not in (".hydra", ".submitit", "wandb"))
    return sorted(found, key=_natural_key)


def _natural_key(path: Path) -> list[Any]:
    """Sort ``sweep/10`` after ``sweep/9``."""
    return [int(part) if part.isdigit() else part for part in path.parts]


def _is_training(path: Path) -> bool:
    config = path / ".hydra" / "config.yaml"
    if not config.is_file():
        return False
    return "trainer" in (yaml.safe_load(config.read_text()) or {})


def read_run(path: Path) -> Run:
    """Everything :class:`Run` holds, from the files ``path`` has (any of them may be missing)."""
    config = yaml.safe_load((path / ".hydra" / "config.yaml").read_text())
    overrides_file = path / ".hydra" / "overrides.yaml"
    typed = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
    trial = (config.get("trial") or {}).get("number")
    run = Run(path, parse_overrides(typed or []), config.get("seed"), trial)
    run.series = read_series(path)
    run.scalars = {**read_ground_truth(path), **read_evaluation(path)}
    log = path / "train.log"
    if log.is_file():
        lines = log.read_text(errors="replace").splitlines()
        run.wall_time_s = wall_time(lines)
        run.status, run.reason = ending(lines)
    return run


def parse_overrides(typed: list[str]) -> dict[str, str]:
    """``key=value`` overrides as typed -> {key: value}; ``+``/``++`` dropped, ``~key`` kept as
    ``key: ~`` (removed)."""
    parsed = {}
    for line in typed:
        key, _, value = line.partition("=")
        if key.startswith("~"):
            parsed[key[1:]] = "~"
        else:
            parsed[key.lstrip("+")] = value
    return parsed


def _metric_files(path: Path) -> list[Path]:
    """The CSV logger's files, in the order written (a resumed run adds a version)."""
    return sorted(
        (path / "csv").glob("version_*/metrics.csv"),
        key=lambda p: int(p.parent.name.removeprefix("version_")),
    )


def read_series(path: Path) -> dict[str, dict[int, float]]:
    """Metric -> {epoch: value} for every metric the CSV logger wrote at most once per epoch
    (validation metrics; per-step training losses are left out). A later value of an epoch
    (a resumed run's) replaces an earlier one."""
    values: dict[str, dict[int, float]] = {}
    counts: dict[str, dict[int, int]] = {}
    for file in _metric_files(path):
        with file.open(newline="") as handle:
            for row in csv.DictReader(handle):
                epoch = row.get("epoch")
                if not epoch:
                    continue
                for name, text in row.items():
                    if name in ("epoch", "step") or not text:
                        continue
                    values.setdefault(name, {})[int(epoch)] = float(text)
                    per_epoch = counts.setdefault(name, {})
                    per_epoch[int(epoch)] = per_epoch.get(int(epoch), 0) + 1
    once_per_epoch = {n for n, c in counts.items() if max(c.values()) == 1}
    return {name: values[name] for name in sorted(once_per_epoch)}


def read_ground_truth(path: Path) -> dict[str, float]:
    """``gt/<error>``: the errors against the true translation at the end of the run."""
    file = path / "ground_truth.json"
    if not file.is_file():
        return {}
    end = json.loads(file.read_text()).get("end", {})
    return {f"gt/{k}": float(v) for k, v in end.items() if k != "epoch"}


def read_evaluation(path: Path) -> dict[str, float]:
    """``eval/fid_AB``, ``eval/kid_AB``, ``eval/gt_<error>_AB``, ... of the run's latest
    evaluation (``unpaired-evaluate`` of one of its checkpoints)."""
    files = sorted((path / "evaluation").glob("*/results.json"))
    if not files:
        return {}
    results = json.loads(files[-1].read_text())
    flat = {}
    for key, entry in results.items():
        if not isinstance(entry, dict) or not ({"fid", "kid", "ground_truth"} & entry.keys()):
            continue
        match = _TRANSLATION.fullmatch(key)
        suffix = f"{match[1]}{match[2]}" if match and len(match[1]) == 1 else key
        for name in ("fid", "kid"):
            if name in entry:
                flat[f"eval/{name}_{suffix}"] = float(entry[name])
        for name, value in entry.get("ground_truth", {}).items():
            flat[f"eval/gt_{name}_{suffix}"] = float(value)
    return flat


def wall_time(lines: list[str]) -> float | None:
    """Seconds from the first to the last timestamped line of the run's log."""
    stamps = [m[1] for m in map(_LOG_TIME.match, lines) if m]
    times = [datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f") for stamp in stamps]
    return (times[-1] - times[0]).total_seconds() if times else None


def ending(lines: list[str]) -> tuple[str, str]:
    """How the run ended, by its log: (status, reason)."""
    text = "\n".join(lines)
    pruned = re.search(r"trial pruned after epoch (\d+)", text)
    if pruned:
        return PRUNED, f"pruned after epoch {pruned[1]}"
    errors = [m[1] for m in map(_LOG_ERROR.match, lines) if m]
    if errors:
        return FAILED, errors[0]
    if "] - Done." in text:  # the block unpaired-train logs at the end of a run
        return COMPLETE, ""
    return INCOMPLETE, "no end in its log: killed, or still running"

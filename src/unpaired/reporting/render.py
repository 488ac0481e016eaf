"""The summary as a rich table in the terminal, a CSV file (one number a cell: mean and standard
deviation in separate columns) and a Markdown file (``mean ± std`` cells); the runs that did not
complete listed with how they ended; and every run's own numbers in ``runs.csv``."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console
from rich.table import Table

from unpaired.reporting.runs import Run
from unpaired.reporting.table import Row, Stat, Summary, best, final, rows


def number(value: float) -> str:
    return f"{value:.4g}"


def short(value: str) -> str:
    """An override's value as shown: a number to 4 significant digits (a sampled 9.6257863881
    as 9.626), anything else as typed; none (the config's own value) as a dash."""
    if not value:
        return "—"
    try:
        return number(float(value)) if any(c.isdigit() for c in value) else value
    except ValueError:
        return value


def cell(stat: Stat | None) -> str:
    if stat is None:
        return "—"
    if stat.std is None:
        return number(stat.mean)
    return f"{number(stat.mean)} ± {number(stat.std)}"


def stat_columns(summary: Summary) -> list[str]:
    columns = []
    for metric in summary.series:
        columns += [metric, f"{metric} best"]
    return [*columns, *summary.scalars, "wall time s"]


def text_table(summary: Summary) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the grouped table, as shown (terminal and Markdown)."""
    header = [*summary.differing, "runs", "seeds", *stat_columns(summary)]
    body = []
    for row in rows(summary):
        cells = [short(row.group.overrides[k]) for k in summary.differing]
        cells += [str(len(row.group.runs)), ",".join(str(s) for s in row.group.seeds)]
        for column in stat_columns(summary):
            text = cell(row.stats[column])
            metric = column.removesuffix(" best")
            if column.endswith(" best") and row.best_epochs.get(metric):
                text += " @ epoch " + ",".join(map(str, row.best_epochs[metric]))
            cells.append(text)
        body.append(cells)
    return header, body


def unfinished_table(summary: Summary, root: Path) -> tuple[list[str], list[list[str]]]:
    header = ["run", *summary.differing, "seed", "status", "reason"]
    body = [
        [
            _shown(run.path, root),
            *(short(run.overrides.get(k, "")) for k in summary.differing),
            str(run.seed),
            run.status,
            run.reason,
        ]
        for run in summary.unfinished
    ]
    return header, body


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path != root else "."


def print_tables(summary: Summary, root: Path, console: Console) -> None:
    for title, (header, body) in (
        (f"Runs under {root}, by configuration (mean ± std over seeds)", text_table(summary)),
        ("Runs that did not complete", unfinished_table(summary, root)),
    ):
        if not body:
            continue
        table = Table(title=title, title_justify="left")
        for name in header:
            table.add_column(name, overflow="fold")
        for cells in body:
            table.add_row(*cells)
        console.print(table)


def write_markdown(summary: Summary, root: Path, path: Path) -> None:
    parts = [f"# Runs under `{root}`", "", "Mean ± standard deviation over seeds (n - 1).", ""]
    for title, (header, body) in (
        ("By configuration", text_table(summary)),
        ("Runs that did not complete", unfinished_table(summary, root)),
    ):
        if not body:
            continue
        parts += [f"## {title}", "", _markdown_row(header), _markdown_row(["---"] * len(header))]
        parts += [_markdown_row(cells) for cells in body]
        parts.append("")
    path.write_text("\n".join(parts))


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def write_csv(summary: Summary, path: Path) -> None:
    """The grouped table, one number a cell."""
    header = [*summary.differing, "runs", "seeds"]
    for column in stat_columns(summary):
        header += [column, f"{column} std"]
        if column.endswith(" best"):
            header.append(f"{column} epochs")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows(summary):
            writer.writerow(_csv_cells(summary, row))


def _csv_cells(summary: Summary, row: Row) -> list[str]:
    cells = [row.group.overrides[k] for k in summary.differing]
    cells += [str(len(row.group.runs)), " ".join(str(s) for s in row.group.seeds)]
    for column in stat_columns(summary):
        stat = row.stats[column]
        cells += ["" if stat is None else repr(stat.mean)]
        cells += ["" if stat is None or stat.std is None else repr(stat.std)]
        if column.endswith(" best"):
            cells.append(" ".join(map(str, row.best_epochs.get(column.removesuffix(" best"), []))))
    return cells


def write_runs_csv(summary: Summary, runs: list[Run], root: Path, path: Path) -> None:
    """Every run: its differing overrides, seed, status and reason, and its own numbers."""
    header = ["run", *summary.differing, "seed", "trial", "status", "reason"]
    for metric in summary.series:
        header += [metric, f"{metric} best", f"{metric} best epoch"]
    header += [*summary.scalars, "wall time s"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for run in runs:
            cells = [_shown(run.path, root), *(run.overrides.get(k, "") for k in summary.differing)]
            cells += [_text(run.seed), _text(run.trial), run.status, run.reason]
            for metric in summary.series:
                found = best(run, metric)
                cells += [_text(final(run, metric)), *(map(_text, found or (None, None)))]
            cells += [_text(run.scalars.get(name)) for name in summary.scalars]
            writer.writerow([*cells, _text(run.wall_time_s)])


def _text(value: object) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)

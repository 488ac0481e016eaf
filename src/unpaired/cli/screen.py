"""What a command shows a user: a start that reads in one screen, no third-party chatter, and an
ending that says what was written where and what to do next.

The third-party lines silenced here say nothing to a user of these commands, and each is matched
precisely (by logger and message), so that a real warning from the same library still shows:
Lightning's advertisement for its cloud logger, its device lines (the start block names the
device), a deprecation warning raised inside Lightning's own code, and wandb's messages about its
offline run (the ending prints the one command they contain).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

#: Lightning's informational lines that the start block makes redundant or that advertise.
_LIGHTNING_CHATTER = re.compile(
    r"💡 Tip:|(GPU|TPU|HPU) available: |`Trainer\(limit_(train|val)_batches=1\.0\)` was configured"
)


class _DropLightningChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _LIGHTNING_CHATTER.match(record.getMessage())


def quiet_third_parties() -> None:
    """Silence the chatter described in the module docstring (idempotent)."""
    os.environ.setdefault("WANDB_SILENT", "true")  # wandb's offline-run banner; see ending()
    chatter = _DropLightningChatter()
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropLightningChatter) for f in logger.filters):
            logger.addFilter(chatter)
    warnings.filterwarnings(  # raised by Lightning's own use of torch's pytree, not by ours
        "ignore",
        message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        module=r"lightning\.pytorch\.utilities\._pytree",
    )


class ConsoleFormatter(logging.Formatter):
    """The console's lines: a message alone, prefixed with its level from warnings up (the run's
    log file keeps times and logger names)."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def block(title: str, rows: Iterable[tuple[str, str]]) -> str:
    """``title`` and aligned ``label  value`` rows, as one text block for the log."""
    rows = list(rows)
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join([title, *(f"  {label.ljust(width)}  {value}" for label, value in rows)])


def shown_path(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter commands)."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def count_progress() -> Progress:
    """Bars of items done / total with the time left, on stderr: live in a terminal; elsewhere
    (a log file) each bar is written once, complete, when the work ends."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )

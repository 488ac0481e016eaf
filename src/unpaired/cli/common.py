"""Pieces every Hydra entry point shares."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig

from unpaired.errors import UnpairedError

log = logging.getLogger(__name__)
T = TypeVar("T")
A = TypeVar("A")


def instantiate_collection(node: DictConfig | None) -> list[Any]:
    """Instantiate every entry of a ``name: {_target_: ...}`` mapping (loggers, callbacks);
    entries set to null are skipped, so ``callbacks.image_grid=null`` turns one off."""
    if not node:
        return []
    return [instantiate(entry) for entry in node.values() if entry is not None]


_NULL_OVERRIDE = re.compile(r"(?P<group>[A-Za-z_][\w/]*)=null")


def null_group_overrides(args: Sequence[str], config_root: Path) -> list[str]:
    """Rewrite ``group=null`` to Hydra's ``~group`` for every config group under ``config_root``.

    Hydra refuses ``null`` as the choice of a config group ("Config group override must be a
    string"), yet ``logger=null`` is the natural way to ask for no logger; other arguments pass
    through unchanged.
    """
    rewritten = []
    for arg in args:
        match = _NULL_OVERRIDE.fullmatch(arg)
        is_group = match is not None and (config_root / match["group"]).is_dir()
        rewritten.append(f"~{match['group']}" if is_group else arg)
    return rewritten


def run_reporting_user_errors(task: Callable[[A], T], cfg: A) -> T:
    """Run ``task(cfg)``; an :class:`UnpairedError` (bad data, config, file) is reported as its
    message alone and the process exits with status 2. Anything else is a bug and keeps its
    traceback. ``cfg`` is a Hydra config, or parsed arguments for the argparse entry points.

    In a Hydra multirun the error is raised on instead, after being logged (a bug with its
    traceback) to this run's log: the sweeper records the run as failed and goes on with the
    next one, where exiting would end the whole sweep.
    """
    try:
        return task(cfg)
    except Exception as error:
        user_error = _user_error(error)
        if user_error is not None:
            log.error("%s", user_error)  # Hydra sends this to the console and to the run's log file
            if not in_multirun():
                sys.exit(2)
        elif in_multirun():
            log.exception("this run failed")
        raise


def _user_error(error: BaseException) -> UnpairedError | None:
    """The :class:`UnpairedError` behind ``error``: itself, or the cause that
    ``hydra.utils.instantiate`` wrapped when a constructor raised it."""
    while error is not None and not isinstance(error, UnpairedError):
        error = error.__cause__
    return error


def in_multirun() -> bool:
    """Whether this process runs one job of a Hydra multirun (``-m``, a sweeper config)."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN

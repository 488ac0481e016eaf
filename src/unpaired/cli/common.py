"""Pieces every Hydra entry point shares."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

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


def run_reporting_user_errors(task: Callable[[A], T], cfg: A) -> T:
    """Run ``task(cfg)``; an :class:`UnpairedError` (bad data, config, file) is reported as its
    message alone and the process exits with status 2. Anything else is a bug and keeps its
    traceback. ``cfg`` is a Hydra config, or parsed arguments for the argparse entry points."""
    try:
        return task(cfg)
    except UnpairedError as error:
        log.error("%s", error)  # Hydra sends this to the console and to the run's log file
        sys.exit(2)

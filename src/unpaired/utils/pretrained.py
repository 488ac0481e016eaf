"""Where a pretrained weights file is found: the path a setting gives, else torch hub's checkpoint
cache. Never downloaded at run time (the machines this runs on often have no internet, and a
silent download in the middle of a run hides which weights a result used): a missing file raises
one error naming the file, its URL, the cache path and the setting that names it."""

from __future__ import annotations

from pathlib import Path

import torch

from unpaired.errors import ConfigError


def hub_cache_path(name: str) -> Path:
    """Where torch hub (``torch.hub.load_state_dict_from_url``) keeps a file called ``name``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def pretrained_file(path: str | Path | None, name: str, url: str, what: str, option: str) -> Path:
    """The weights file ``name``: ``path`` if given, else torch hub's cache.

    Args:
        path: the file the setting ``option`` names (None: the cache).
        name, url: the file's name and where a user downloads it.
        what: what the file holds, for the error ("the FID/KID Inception weights").
        option: the setting that names the file ("metrics.inception_weights").

    Raises:
        ConfigError: ``path`` is not a file, or none is given and the cache does not hold it.
    """
    cached = hub_cache_path(name)
    if path is not None:
        given = Path(path).expanduser()
        if given.is_file():
            return given
        raise ConfigError(
            f"{option}={given}: no such file. It must be {name} ({what}), from {url}; or put "
            f"that file at {cached} and leave {option} unset."
        )
    if cached.is_file():
        return cached
    raise ConfigError(
        f"{what} ({name}): not found, and never downloaded at run time. Download "
        f"{url} (on a machine with internet) and either put it at {cached} or pass "
        f"{option}=/path/to/{name}"
    )

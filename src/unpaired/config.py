"""Where the Hydra configs live, and the resolvers they use."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The ``conf/`` tree: the copy inside an installed wheel, else the repository's own.

    The repository's top-level ``conf/`` is the single source; the wheel build copies it into
    the package (pyproject's force-include), and an editable install reads it in place.
    """
    packaged = _PACKAGE_DIR / "conf"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parents[1] / "conf"


def register_resolvers() -> None:
    """``${add:a,b,...}``: the sum of its arguments (e.g. constant + decay epochs)."""
    if not OmegaConf.has_resolver("add"):
        OmegaConf.register_new_resolver("add", lambda *values: sum(values))

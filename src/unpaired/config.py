"""Where the Hydra configs live, and the resolvers they use."""

from __future__ import annotations

from pathlib import Path

from hydra.types import RunMode
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


def run_group(name: str, mode: RunMode | None, sweep_dir: str) -> str:
    """The group of a run in the experiment tracker: ``name`` for a single run; for every run of
    a multirun, ``name`` and the sweep's folder (``cyclegan_synthetic/multirun_<date>_<time>``),
    so that the runs of one sweep share a group and two sweeps do not."""
    return f"{name}/{Path(sweep_dir).name}" if mode == RunMode.MULTIRUN else name


def register_resolvers() -> None:
    """``${add:a,b,...}``: the sum of its arguments (e.g. constant + decay epochs);
    ``${run_group:name,mode,sweep_dir}``: see :func:`run_group`."""
    if not OmegaConf.has_resolver("add"):
        OmegaConf.register_new_resolver("add", lambda *values: sum(values))
    if not OmegaConf.has_resolver("run_group"):
        OmegaConf.register_new_resolver("run_group", run_group)

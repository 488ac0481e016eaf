"""Where the Hydra configs live, and the resolvers they use."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from unpaired.utils import runs

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
    """``${add:a,b,...}``: the sum of its arguments (e.g. constant + decay epochs);
    ``${run_dir:...}`` and ``${config_subdir:...}``: where a training's run folder and its Hydra
    files go when it continues a run; ``${evaluation_dir:...}``: an evaluation's folder
    (:mod:`unpaired.utils.runs`)."""
    resolvers = {
        "add": lambda *values: sum(values),
        "run_dir": runs.run_dir,
        "config_subdir": runs.config_subdir,
        "evaluation_dir": runs.evaluation_dir,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)

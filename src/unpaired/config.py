"""Where the Hydra configs live, and the resolvers they use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from unpaired.errors import ConfigError
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


def run_group(name: str, mode: RunMode | None, sweep_dir: str) -> str:
    """The group of a run in the experiment tracker: ``name`` for a single run; for every run of
    a multirun, ``name`` and the sweep's folder (``cyclegan_synthetic/multirun_<date>_<time>``),
    so that the runs of one sweep share a group and two sweeps do not."""
    return f"{name}/{Path(sweep_dir).name}" if mode == RunMode.MULTIRUN else name


def count(value: Any, key: str) -> int:
    """``value``, which the setting ``key`` must give as a number (>= 1), not as ``auto``.

    Raises:
        ConfigError: it is something else.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigError(f"{key}={value!r} must be a number here, e.g. {key}=8.")


def register_resolvers() -> None:
    """``${add:a,b,...}``: the sum of its arguments (e.g. constant + decay epochs);
    ``${not:value}``: its negation (cuDNN autotuning unless deterministic);
    ``${run_dir:...}`` and ``${config_subdir:...}``: where a training's run folder and its Hydra
    files go when it continues a run, ``${evaluation_dir:...}``: an evaluation's folder
    (:mod:`unpaired.utils.runs`);
    ``${run_group:name,mode,sweep_dir}``: see :func:`run_group`;
    ``${count:value,key}``: see :func:`count`."""
    resolvers = {
        "add": lambda *values: sum(values),
        "not": lambda value: not value,
        "run_dir": runs.run_dir,
        "config_subdir": runs.config_subdir,
        "run_group": run_group,
        "count": count,
        "evaluation_dir": runs.evaluation_dir,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)


class HydraConfigForLaunchers(Callback):
    """Makes ``${hydra:...}`` resolvable while a multirun sets up its sweeper and launcher.

    Our run names and folders interpolate ``${hydra:runtime.choices...}`` and
    ``${hydra:runtime.cwd}``. Hydra sets the config those read only when a job starts, but the
    submitit launchers resolve their own settings (their folder is inside the sweep folder)
    when they are created, before any job: without this callback, ``hydra/launcher=slurm``
    fails with "HydraConfig was not set".
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraConfig.instance().set_config(config)

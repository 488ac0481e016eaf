"""A Hydra sweeper on Optuna's ask-and-tell interface, with the study in a database.

Hydra's own Optuna sweeper (hydra-optuna-sweeper, latest release 1.3.0) requires optuna < 3,
whose database storage does not run with SQLAlchemy 2 (which current alembic, an Optuna
dependency, requires), so its studies lived in memory; its development version supports Optuna 4
but needs an unreleased hydra-core 1.4. This one is configured by
conf/hydra/sweeper/optuna_study.yaml; the work is in :mod:`unpaired.sweeps` (imported when a
sweep starts: Hydra imports every plugin module whenever it starts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf


class OptunaStudySweeper(Sweeper):
    """Runs ``n_trials`` trials of the study ``study_name`` in ``storage`` (see
    :class:`unpaired.sweeps.sweeper.StudySweep`); writes the best to optimization_results.yaml."""

    def __init__(self, sampler: Any = None, params: DictConfig | None = None, **settings: Any):
        self.sampler = sampler
        self.params = OmegaConf.to_container(params) if params else {}
        self.settings = settings

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> None:
        from unpaired.sweeps.search_space import SearchSpace
        from unpaired.sweeps.sweeper import StudySettings, StudySweep, best_results, default_storage

        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        settings = StudySettings(**self.settings)
        settings.storage = settings.storage or default_storage(sweep_dir)
        space = SearchSpace.parse(arguments, self.params)
        study = StudySweep(settings, space, self.sampler, self.launcher).run()
        results = OmegaConf.create(best_results(study))
        OmegaConf.save(results, sweep_dir / "optimization_results.yaml")

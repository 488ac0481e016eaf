"""Hydra's sweep syntax as an Optuna search space, and the overrides of one trial's run."""

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from unpaired.errors import ConfigError
from unpaired.sweeps.search_space import SearchSpace


def test_sweep_expressions_become_optuna_distributions_and_seeds_repeats():
    space = SearchSpace.parse(
        ["name=x", "seed=0,1,2", "model.pool_size=choice(0,50)", "a=range(1,9,2)"],
        {
            "model.lambda_A": "interval(2.0, 20.0)",
            "model.optimizer.lr": "tag(log, interval(0.00005, 0.0005))",
            "model.pool_size": "choice(0,10)",  # the command line's sweep of a key replaces it
        },
    )
    assert space.seeds == [0, 1, 2]
    assert space.fixed == ["name=x"]
    assert space.distributions == {
        "model.lambda_A": FloatDistribution(2.0, 20.0),
        "model.optimizer.lr": FloatDistribution(0.00005, 0.0005, log=True),
        "model.pool_size": CategoricalDistribution((0, 50)),
        "a": IntDistribution(1, 7, step=2),  # Hydra's range stops before 9
    }


def test_a_trials_overrides_quote_strings_so_they_stay_strings():
    space = SearchSpace.parse(["name=x"], {})
    overrides = space.overrides({"model.gan_mode": "true", "model.lambda_A": 5.5})
    assert overrides == ["name=x", "model.gan_mode='true'", "model.lambda_A=5.5"]


def test_a_glob_or_an_unknown_tag_is_refused_by_name():
    with pytest.raises(ConfigError, match="only tag an Optuna search knows is log"):
        SearchSpace.parse(["x=tag(grid, interval(0, 1))"], {})
    with pytest.raises(ConfigError, match="not a glob"):
        SearchSpace.parse(["model=glob(*)"], {})

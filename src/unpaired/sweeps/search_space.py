"""A sweep's command line and ``hydra.sweeper.params`` as an Optuna search space.

The syntax is Hydra's sweep syntax (as in Hydra's own Optuna plugin, whose releases pin Optuna 2):
``choice(a, b)`` or ``a,b`` is categorical, ``range(start, stop[, step])`` a stepped int or float,
``interval(low, high)`` a float (an int if both ends are ints), ``tag(log, ...)`` on a range or
interval samples its logarithm. ``seed`` is special: ``seed=0,1,2`` repeats every configuration
once per seed instead of searching over the seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    Quote,
    QuotedString,
    RangeSweep,
)
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from unpaired.errors import ConfigError

SEED_KEY = "seed"


@dataclass
class SearchSpace:
    """What a sweep varies: Optuna ``distributions`` by config key, the ``seeds`` every
    configuration is repeated over (empty: the config's own seed), and the ``fixed`` overrides
    every run gets, as typed."""

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, arguments: Sequence[str], params: Mapping[str, str]) -> SearchSpace:
        """From the command line's ``arguments`` and ``params`` (key -> sweep expression);
        a command-line sweep of a key replaces its entry in ``params``."""
        parser = OverridesParser.create()
        from_params = [f"{key}={value}" for key, value in params.items()]
        overrides = parser.parse_overrides([*from_params, *arguments])
        space = cls()
        for override in overrides:
            key = override.get_key_element()
            if not override.is_sweep_override():
                space.fixed.append(override.input_line or "")
            elif key == SEED_KEY:
                space.seeds = [int(seed) for seed in override.sweep_iterator()]
            else:
                space.distributions[key] = distribution(override)
        return space

    def overrides(self, params: Mapping[str, Any]) -> list[str]:
        """The overrides of one run: the fixed ones and the trial's ``params``."""
        return [*self.fixed, *(f"{key}={override_value(v)}" for key, v in params.items())]


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override.

    Raises:
        ConfigError: a sweep Optuna cannot sample (a glob, an unknown tag).
    """
    sweep = override.value()
    if not isinstance(sweep, (ChoiceSweep, RangeSweep, IntervalSweep)):
        raise ConfigError(
            f"{override.input_line}: an Optuna search takes choice(...), a,b,..., range(...) "
            "or interval(...), not a glob"
        )
    log = "log" in sweep.tags
    unknown = sweep.tags - {"log"}
    if unknown:
        raise ConfigError(
            f"{override.input_line}: the only tag an Optuna search knows is log, not "
            f"{', '.join(sorted(unknown))}"
        )
    if isinstance(sweep, ChoiceSweep):
        return CategoricalDistribution([Override._convert_value(v) for v in sweep.list])
    if isinstance(sweep, RangeSweep):
        if all(isinstance(v, int) for v in (sweep.start, sweep.stop, sweep.step)):
            # Hydra's range excludes its stop, Optuna's includes its high end
            return IntDistribution(sweep.start, sweep.stop - sweep.step, log=log, step=sweep.step)
        last = sweep.stop - sweep.step
        return FloatDistribution(sweep.start, last, log=log, step=None if log else sweep.step)
    if isinstance(sweep.start, int) and isinstance(sweep.end, int):  # an interval
        return IntDistribution(sweep.start, sweep.end, log=log)
    return FloatDistribution(sweep.start, sweep.end, log=log)


def override_value(value: Any) -> str:
    """``value`` as the right-hand side of a Hydra override: strings quoted, so that a string
    such as ``true`` or ``1e-3`` stays a string."""
    if isinstance(value, str):
        return QuotedString(text=value, quote=Quote.single).with_quotes()
    if value is None:
        return "null"
    return str(value)

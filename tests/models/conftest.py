"""Models composed from the real configs, shrunk to test size."""

from collections.abc import Callable
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from unpaired.config import config_dir

ComposeModel = Callable[..., DictConfig]
BuildModel = Callable[..., Any]
ModelArguments = Callable[..., dict[str, Any]]


@pytest.fixture
def compose_model() -> ComposeModel:
    """Factory: ``compose(name, *overrides)`` -> the ``model`` node of ``train.yaml`` composed
    with ``model=name`` and the overrides (Hydra override syntax, e.g. ``model.gan_w=2``)."""

    def compose_node(name: str, *overrides: str) -> DictConfig:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose("train", overrides=[f"model={name}", *overrides]).model

    return compose_node


@pytest.fixture
def build_model(compose_model: ComposeModel) -> BuildModel:
    """Factory: ``build(name, *overrides)`` -> the module, instantiated as the train entry point
    does it."""

    def build(name: str, *overrides: str) -> Any:
        return instantiate(compose_model(name, *overrides), _recursive_=False, _convert_="all")

    return build


@pytest.fixture
def model_arguments(compose_model: ComposeModel) -> ModelArguments:
    """Factory: ``arguments(name, *overrides)`` -> the model's constructor arguments, to call the
    class directly (Hydra's instantiate would wrap the errors it raises)."""

    def arguments(name: str, *overrides: str) -> dict[str, Any]:
        node = OmegaConf.to_container(compose_model(name, *overrides), resolve=True)
        node.pop("_target_")
        return node

    return arguments

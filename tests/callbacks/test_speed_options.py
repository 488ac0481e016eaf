"""callbacks.speed: the training speed levers reach the networks, before anything runs."""

import pytest
import torch

from unpaired.callbacks import SpeedOptions
from unpaired.errors import ConfigError


def test_channels_last_puts_every_network_in_nhwc(make_cyclegan):
    module = make_cyclegan()
    SpeedOptions(channels_last=True).setup(None, module, "fit")
    convolutions = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convolutions
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convolutions)


def test_compile_wraps_each_network_in_place_and_keeps_the_checkpoint_keys(make_cyclegan):
    module = make_cyclegan()
    keys = list(module.state_dict())
    speed = SpeedOptions(compile={"mode": "reduce-overhead"})
    speed.setup(None, module, "fit")
    speed.setup(None, module, "fit")  # a second fit compiles nothing twice
    networks = [module.G_AB, module.G_BA, module.D_A, module.D_B]
    assert all(network._compiled_call_impl is not None for network in networks)
    assert list(module.state_dict()) == keys


def test_by_default_nothing_changes(make_cyclegan):
    module = make_cyclegan()
    SpeedOptions().setup(None, module, "fit")
    assert module.G_AB._compiled_call_impl is None
    assert module.G_AB.model[1].weight.is_contiguous()


def test_a_bad_compile_value_names_the_key():
    with pytest.raises(ConfigError, match=r"callbacks\.speed\.compile"):
        SpeedOptions(compile="fast")


@pytest.mark.parametrize(("deterministic", "autotuning"), [(False, True), (True, False)])
def test_cudnn_autotuning_is_on_unless_the_run_is_deterministic(
    compose_train, deterministic, autotuning
):
    cfg = compose_train([f"trainer.deterministic={deterministic}"])
    assert cfg.trainer.benchmark is autotuning

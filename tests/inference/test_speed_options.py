"""The inference speed options: the module's own results (float rounding aside, or bf16's), and
clear errors where an option cannot apply."""

from pathlib import Path

import pytest
import torch

from unpaired.errors import ConfigError
from unpaired.inference import load_translator, module_translator
from unpaired.nn import ResnetGenerator, init_weights

CPU = torch.device("cpu")


def generator() -> ResnetGenerator:
    torch.manual_seed(0)
    return init_weights(ResnetGenerator(ngf=8, n_blocks=1))


def plain(images: torch.Tensor) -> torch.Tensor:
    """The authors' test: eval, no_grad, one image at a time (sides already multiples of 4)."""
    network = generator().eval()
    with torch.no_grad():
        return torch.cat([network(image) for image in images.split(1)])


def test_channels_last_gives_the_module_results_up_to_float_rounding():
    images = torch.rand(3, 3, 32, 28) * 2 - 1
    translator = module_translator(generator(), CPU, channels_last=True)
    assert translator.module.model[1].weight.is_contiguous(memory_format=torch.channels_last)
    translated = translator(images)
    assert translated.dtype == torch.float32 and translated.shape == images.shape
    torch.testing.assert_close(translated, plain(images), rtol=1e-4, atol=1e-5)


def test_any_size_comes_back_at_its_own_size_in_channels_last():
    images = torch.rand(1, 3, 33, 50) * 2 - 1
    assert module_translator(generator(), CPU, channels_last=True)(images).shape == images.shape


def test_bf16_stays_close_and_returns_float32():
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    translated = module_translator(generator(), CPU, precision="bf16")(images)
    assert translated.dtype == torch.float32
    torch.testing.assert_close(translated, plain(images), rtol=0, atol=5e-2)
    assert not torch.equal(translated, plain(images))  # autocast really ran


def test_weights_are_frozen_in_eval_mode_and_compiling_leaves_the_module_as_it_was():
    translator = module_translator(generator(), CPU, compile=True)
    assert not translator.module.training
    assert not any(p.requires_grad for p in translator.module.parameters())
    assert translator.net is not translator.module  # the compiled wrapper runs...
    assert type(translator.module) is ResnetGenerator  # ...the module stays exportable


@pytest.mark.parametrize(
    ("options", "culprit"),
    [({"precision": "16"}, "inference.precision"), ({"compile": "yes"}, "inference.compile")],
)
def test_bad_options_name_the_config_key(options, culprit):
    with pytest.raises(ConfigError, match=culprit):
        module_translator(generator(), CPU, **options)


def test_exported_files_refuse_options_they_cannot_take(tmp_path: Path):
    path = tmp_path / "g.pt"
    scripted = torch.jit.trace(generator().eval(), torch.rand(1, 3, 32, 32))
    scripted.save(str(path))
    assert load_translator(path, channels_last=True)(torch.rand(1, 3, 32, 32)).shape[1] == 3
    with pytest.raises(ConfigError, match="runs as it was exported"):
        load_translator(path, precision="bf16")

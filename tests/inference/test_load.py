"""load_translator: any of our model files becomes a function that translates images."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from unpaired.data.padding import run_padded
from unpaired.errors import CheckpointError
from unpaired.inference import load_translator
from unpaired.inference.load import build_module
from unpaired.utils.checkpoint import load_checkpoint, save_generators

ODD = (2, 3, 13, 19)  # not a multiple of the generator's 4: padded and cropped back


def trained_module(path: Path) -> torch.nn.Module:
    checkpoint = load_checkpoint(path)
    module = build_module(checkpoint, path)
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval()


def expected(module: torch.nn.Module, direction: str, images: torch.Tensor) -> torch.Tensor:
    generator = module.G_AB if direction == "AtoB" else module.G_BA
    with torch.no_grad():
        return run_padded(generator, images)


def test_checkpoint_names_its_model_class(tiny_checkpoint: Path) -> None:
    assert load_checkpoint(tiny_checkpoint)["model_target"] == "unpaired.models.cyclegan.CycleGAN"


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_checkpoint_translates_with_its_trained_generators(
    tiny_checkpoint: Path, direction: str
) -> None:
    images = torch.rand(ODD) * 2 - 1
    translated = load_translator(tiny_checkpoint, direction)(images)
    assert translated.shape == images.shape
    truth = expected(trained_module(tiny_checkpoint), direction, images)
    torch.testing.assert_close(translated, truth, rtol=0, atol=0)


def test_generators_safetensors_translates_like_the_checkpoint(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    module = trained_module(tiny_checkpoint)
    path = tmp_path / "run.generators.safetensors"
    save_generators(module, path)
    images = torch.rand(ODD) * 2 - 1
    for direction in ("AtoB", "BtoA"):
        translated = load_translator(path, direction)(images)
        torch.testing.assert_close(translated, expected(module, direction, images), rtol=0, atol=0)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nothere\.ckpt not found"):
        load_translator(tmp_path / "nothere.ckpt")


def test_a_file_of_something_else_is_refused_with_the_accepted_formats(tmp_path: Path) -> None:
    path = tmp_path / "numbers.pt"
    torch.save({"weights": [1, 2, 3]}, path)
    with pytest.raises(CheckpointError, match=r"numbers\.pt is neither a Lightning checkpoint"):
        load_translator(path)


def test_checkpoint_without_model_class_says_how_to_get_one(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    checkpoint = load_checkpoint(tiny_checkpoint)
    del checkpoint["model_target"]
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    with pytest.raises(CheckpointError, match="does not name its model class"):
        load_translator(old)


def test_onnx_without_onnxruntime_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "g.onnx"
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes the import fail
    with pytest.raises(CheckpointError, match=r"needs onnxruntime: pip install 'unpaired\[ex"):
        load_translator(path)

"""unpaired-export's files give the PyTorch module's output, at sizes other than the traced one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from unpaired.data.padding import pad_to_multiple
from unpaired.errors import CheckpointError
from unpaired.inference import load_translator
from unpaired.inference.export import export
from unpaired.utils.checkpoint import load_checkpoint

from .test_authors import GOLDEN, golden, golden_file
from .test_load import expected, trained_module

#: Exported graphs reorder float operations (ONNX Runtime fuses convs): equal to 1e-5.
ATOL = 1e-5


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(2, 3, 37, 29, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_exported_files_translate_like_the_module(
    tiny_checkpoint: Path, tmp_path: Path, images: torch.Tensor, direction: str
) -> None:
    files = export(tiny_checkpoint, tmp_path / "out", direction=direction)
    assert [f.name for f in files] == [
        f"tiny_{direction}.pt",
        f"tiny_{direction}.onnx",
        f"tiny_{direction}.safetensors",
    ]
    truth = expected(trained_module(tiny_checkpoint), direction, images)
    for path in files:
        translated = load_translator(path, direction)(images)
        torch.testing.assert_close(translated, truth, rtol=0, atol=ATOL, msg=path.name)


def test_onnx_model_takes_any_height_and_width_in_onnxruntime(
    tiny_checkpoint: Path, tmp_path: Path, images: torch.Tensor
) -> None:
    (path,) = export(tiny_checkpoint, tmp_path, formats=["onnx"])
    padded, _ = pad_to_multiple(images, 4)  # 40 x 32, not the traced 64 x 64
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"images": padded.numpy()})
    with torch.no_grad():
        truth = trained_module(tiny_checkpoint).G_AB(padded)
    np.testing.assert_allclose(output, truth.numpy(), rtol=0, atol=ATOL)
    assert session.get_modelmeta().custom_metadata_map["size_multiple"] == "4"


def test_exported_file_refuses_the_other_direction(tiny_checkpoint: Path, tmp_path: Path) -> None:
    (path,) = export(tiny_checkpoint, tmp_path, formats=["torchscript"], direction="AtoB")
    with pytest.raises(CheckpointError, match="translates AtoB only, not BtoA"):
        load_translator(path, "BtoA")


def test_authors_file_exports_to_a_safe_single_generator(
    tmp_path: Path, images: torch.Tensor
) -> None:
    """The export of an authors' file still translates as the authors' network does."""
    fixture = golden.Fixture(GOLDEN["cyclegan/resnet_9blocks_dropout"])
    source, _ = golden_file(fixture, tmp_path / "h2z.pth")
    (path,) = export(source, tmp_path / "out", formats=["safetensors"])
    fixture.check("out", load_translator(path)(fixture.inputs()["x"]))
    translated = load_translator(path)(images)
    torch.testing.assert_close(translated, load_translator(source)(images), rtol=0, atol=0)
    assert load_checkpoint(source).keys() == load_translator(path).module.state_dict().keys()

"""Generator files from unpaired-export evaluated beside the checkpoint they came from."""

from pathlib import Path

import pytest
import torch

from unpaired.cli.evaluate import evaluate
from unpaired.errors import CheckpointError
from unpaired.inference.export import export


@pytest.fixture
def checkpoint_and_export(tmp_path, make_cyclegan, save_checkpoint) -> tuple[Path, Path]:
    torch.manual_seed(0)
    checkpoint = save_checkpoint(make_cyclegan(), tmp_path / "cyclegan.ckpt")
    (exported,) = export(checkpoint, tmp_path / "export", ["torchscript"], "AtoB", example_size=32)
    return checkpoint, exported


def test_an_exported_generator_is_judged_as_the_checkpoint_it_came_from(
    tmp_path, checkpoint_and_export, compose_train, evaluation_overrides, page_tables
):
    checkpoint, exported = checkpoint_and_export
    overrides = [
        f"ckpt=[{checkpoint},{exported}]",
        "labels=[checkpoint,exported]",
        "metrics.fid=false",
        "metrics.kid=false",
        "device=cpu",
        f"paths.output_dir={tmp_path / 'evaluation'}",
        *evaluation_overrides,
    ]
    results = evaluate(compose_train(overrides, config_name="evaluate"))

    trained, generator = results["models"]
    assert generator["model"] == "exported generator (.pt)" and "BtoA" not in generator
    assert generator["AtoB"]["ground_truth"] == pytest.approx(trained["AtoB"]["ground_truth"])
    header = page_tables(tmp_path / "evaluation" / "index.html")["images0"][0]
    assert header == ["image", "input A", "checkpoint", "exported", "true B"]


def test_an_exported_generator_of_another_direction_is_refused_by_name(
    tmp_path, checkpoint_and_export, compose_train, evaluation_overrides
):
    _, exported = checkpoint_and_export
    overrides = [f"ckpt={exported}", "direction=BtoA", *evaluation_overrides]
    cfg = compose_train([*overrides, f"paths.output_dir={tmp_path}"], config_name="evaluate")
    with pytest.raises(CheckpointError, match=rf"{exported} translates AtoB only, not BtoA"):
        evaluate(cfg)

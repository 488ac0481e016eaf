"""``unpaired-evaluate ckpt=[a,b]``: several models on one page and in one results.json."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.callbacks.image_grid import HEADER_HEIGHT, header_row
from unpaired.cli.evaluate import checkpoint_paths, model_labels
from unpaired.errors import ConfigError
from unpaired.utils.runs import evaluation_dir


def test_several_checkpoints_make_one_page_and_one_results_file(
    tmp_path: Path,
    run_cli,
    make_cyclegan,
    save_checkpoint,
    random_inception_weights,
    evaluation_overrides,
    page_tables,
    assert_metrics_shown,
):
    torch.manual_seed(0)
    runs = tmp_path / "experiments"
    cyclegan = save_checkpoint(
        make_cyclegan(), runs / "cyclegan_x" / "r1" / "checkpoints" / "a.ckpt"
    )
    (runs / "cyclegan_x" / "r1" / ".hydra").mkdir()
    (runs / "cyclegan_x" / "r1" / ".hydra" / "hydra.yaml").write_text(
        "hydra:\n  runtime:\n    choices:\n      experiment: cyclegan/synthetic\n"
    )
    cut = make_cyclegan("model=cut", "model.nce_layers=[0,4]")
    cut = save_checkpoint(cut, runs / "cut_x" / "r2" / "checkpoints" / "last.ckpt")
    result = run_cli(
        "evaluate",
        [
            f"ckpt=[{cyclegan},{cut}]",
            f"metrics.inception_weights={random_inception_weights}",
            "device=cpu",
            *evaluation_overrides,
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (runs / "comparisons").iterdir()
    results = json.loads((folder / "results.json").read_text())

    first, second = results["models"]
    assert (first["label"], second["label"]) == ("cyclegan_x", "cut_x")  # the runs' names
    assert (first["checkpoint"], second["checkpoint"]) == (str(cyclegan), str(cut))
    assert first["training"] == {
        "method": "CycleGAN",
        "epoch": 0,
        "step": 0,
        "preset": "cyclegan/synthetic",
        "run": "cyclegan_x/r1",
    }
    assert second["training"]["method"] == "CUT" and "BtoA" not in second  # CUT: A -> B only
    assert first["AtoB"]["fid"] != second["AtoB"]["fid"]
    assert sorted(p.name for p in (folder / "images" / "cut_x").iterdir()) == ["fake_B"]
    assert len(list((folder / "images" / "cyclegan_x" / "rec_A").glob("*.png"))) == 3
    assert len(list((folder / "images" / "true_B").glob("*.png"))) == 3

    tables = page_tables(folder / "index.html")
    assert_metrics_shown(tables["metrics"], results)
    assert tables["images0"][0] == ["image", "input A", "cyclegan_x", "cut_x", "true B"]
    assert tables["images1"][0] == ["image", "input B", "cyclegan_x", "true A"]
    assert [row[0] for row in tables["models"][1:]] == ["cyclegan_x", "cut_x"]
    screen = result.stderr + result.stdout
    assert re.search(rf"cut_x AtoB +FID {second['AtoB']['fid']:.2f}, KID", screen)

    # The grid has the page's columns: input | one translation per model | truth, labelled.
    with Image.open(folder / "grid_AtoB.png") as grid:
        assert grid.width == 2 + 4 * (32 + 2)
        header = torch.from_numpy(np.array(grid.convert("RGB"))[:HEADER_HEIGHT])
    expected = header_row(["input A", "cyclegan x", "cut x", "true B"], 32)
    assert (header.permute(2, 0, 1).float() / 255 - expected).abs().max() < 1 / 255 + 1e-6


def test_models_are_named_after_their_runs_or_files_and_numbered_where_alike():
    paths = [
        Path("/e/cyclegan_h2z/r1/checkpoints/last.ckpt"),
        Path("/e/cyclegan_h2z/r2/checkpoints/last.ckpt"),
        Path("/elsewhere/model.ckpt"),
    ]
    assert model_labels(paths[2:], None) == ["model"]
    assert model_labels(paths, None) == ["cyclegan_h2z_1", "cyclegan_h2z_2", "model_3"]
    assert model_labels(paths[:2], ["old", "new"]) == ["old", "new"]
    with pytest.raises(ConfigError, match=r"labels=\['a'\] must name each of the 2 checkpoints"):
        model_labels(paths[:2], ["a"])
    with pytest.raises(ConfigError, match="must name each"):
        model_labels(paths[:2], ["a", "a"])


def test_ckpt_is_one_path_or_a_list_and_a_comparison_has_its_own_folder():
    assert checkpoint_paths("/a.ckpt") == [Path("/a.ckpt")]
    assert checkpoint_paths(["/a.ckpt", "/b.ckpt"]) == [Path("/a.ckpt"), Path("/b.ckpt")]
    for empty in (None, [], ""):
        with pytest.raises(ConfigError, match=r"ckpt is required.*ckpt=\[a.ckpt,b.ckpt\]"):
            checkpoint_paths(empty)
    run = "/e/x/r1/checkpoints/last.ckpt"
    assert evaluation_dir([run], None, "/e", "T") == evaluation_dir(run, None, "/e", "T")
    assert evaluation_dir(run, None, "/e", "T") == "/e/x/r1/evaluation/T"
    assert evaluation_dir([run, "/b.ckpt"], None, "/e", "T") == "/e/comparisons/T"
    assert evaluation_dir([run, "/b.ckpt"], "/out", "/e", "T") == "/out"

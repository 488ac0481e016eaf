"""Every way a file gets loaded refuses one that carries code, without running it: a hostile
checkpoint, authors' generator file or Inception weights file, handed to each entry point."""

from pathlib import Path

import pytest
from PIL import Image

from unpaired.errors import CheckpointError
from unpaired.utils.checkpoint import SafeCheckpointIO


def small_data(root: Path) -> list[str]:
    """A tiny synthetic set and run folders inside ``root``."""
    return [
        f"paths.data_dir={root / 'data'}",
        f"paths.experiments_dir={root / 'runs'}",
        *("data.image_size=32", "data.load_size=32", "data.crop_size=32", "data.n_test=1"),
    ]


def photos(root: Path) -> Path:
    """A folder with one image to translate."""
    folder = root / "photos"
    folder.mkdir()
    Image.new("RGB", (32, 32)).save(folder / "photo.png")
    return folder


ENTRY_POINTS = {
    "translate": lambda path, root: [f"ckpt={path}", f"input={photos(root)}", "output=out"],
    "export": lambda path, root: [f"ckpt={path}", "output=out"],
    "evaluate": lambda path, root: [
        f"ckpt={path}",
        "metrics.fid=false",
        "metrics.kid=false",
        *small_data(root),
    ],
    "train": lambda path, root: [f"ckpt_path={path}", "logger=null", *small_data(root)],
}


@pytest.mark.parametrize("tool", sorted(ENTRY_POINTS))
def test_each_command_refuses_a_file_carrying_code_without_running_it(
    run_cli, tmp_path: Path, hostile_file: tuple[Path, Path], tool: str
) -> None:
    path, marker = hostile_file
    result = run_cli(tool, ENTRY_POINTS[tool](path, tmp_path), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert f"refusing to load {path}" in output and "system" in output
    assert "Traceback" not in output
    assert not marker.exists()


def test_the_trainers_checkpoint_plugin_refuses_it_whatever_it_is_asked(
    hostile_file: tuple[Path, Path],
) -> None:
    path, marker = hostile_file
    with pytest.raises(CheckpointError, match="refusing to load"):
        SafeCheckpointIO().load_checkpoint(path, weights_only=False)  # as Lightning may ask
    assert not marker.exists()


def test_inception_weights_carrying_code_are_refused(
    hostile_file: tuple[Path, Path], tmp_path: Path
) -> None:
    from unpaired.metrics.inception import InceptionFeatures

    path, marker = hostile_file
    weights = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    path.rename(weights)
    with pytest.raises(CheckpointError, match="refusing to load"):
        InceptionFeatures(str(weights))
    assert not marker.exists()

"""``unpaired-bench data``: both pipelines timed on the same images, and the same results."""

import json
from pathlib import Path

import pytest
from PIL import Image

from unpaired.bench.data import compare_pipelines, max_difference, write_jpegs
from unpaired.cli.bench import main


def test_generated_sources_are_jpegs_of_the_asked_size(tmp_path: Path) -> None:
    paths = write_jpegs(tmp_path, 3, size=48)
    assert [path.name for path in paths] == ["0000.jpg", "0001.jpg", "0002.jpg"]
    with Image.open(paths[0]) as image:
        assert image.format == "JPEG" and image.size == (48, 48)


def test_both_pipelines_are_timed_and_agree(tmp_path: Path) -> None:
    paths = write_jpegs(tmp_path, 3, size=40)
    rows = compare_pipelines(paths, load_size=44, crop_size=32, rounds=2)
    assert [row.name for row in rows] == ["authors' (PIL + torchvision)", "ours (unpaired)"]
    assert all(0 < row.low <= row.median <= row.high for row in rows)
    assert max_difference(paths, load_size=44, crop_size=32) <= 2.01  # 8-bit levels


def test_command_prints_and_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "data.json"
    arguments = ["data", "--images", "2", "--rounds", "1", "--source-size", "40"]
    main([*arguments, "--load-size", "44", "--crop-size", "32", "--json", str(output)])
    printed = capsys.readouterr().out
    assert "authors' (PIL + torchvision)" in printed and "ours (unpaired)" in printed
    assert "decode: torchvision.io.decode_jpeg" in printed
    figures = json.loads(output.read_text())
    assert figures["speedup"] == pytest.approx(
        figures["pipelines"][1]["median"] / figures["pipelines"][0]["median"]
    )
    assert figures["load_size"] == 44 and len(figures["stages"]) == 6


def test_own_folder_without_images_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "--folder", str(tmp_path)])
    assert exit_info.value.code == 2

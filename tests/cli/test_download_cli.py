"""``unpaired-download`` as a user runs it."""

import logging
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from unpaired.cli.download import main

SRC = Path(__file__).parents[2] / "src"


def test_list_names_every_data_set_and_what_is_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / ".source").write_text("{}")
    main(["--list", "--root", str(tmp_path)])
    out = capsys.readouterr().out
    for name in ("horse2zebra", "monet2photo", "edges2shoes", "facades_pix2pix", "night2day"):
        assert name in out
    maps_line = next(line for line in out.splitlines() if "│ maps " in line)
    assert "yes" in maps_line


def test_download_from_a_mirror(
    tmp_path: Path, archive_server: Any, archives: types.SimpleNamespace
) -> None:
    archive_server.files["/cyclegan/datasets/apple2orange.zip"] = archives.zip(
        archives.dataset("apple2orange")
    )
    main(["apple2orange", "--root", str(tmp_path), "--mirror", archive_server.url])
    assert sorted(p.name for p in (tmp_path / "apple2orange").iterdir()) == [
        ".source", "testA", "testB", "trainA", "trainB"
    ]  # fmt: skip


def test_from_file(tmp_path: Path, archives: types.SimpleNamespace) -> None:
    archive = tmp_path / "vangogh2photo.zip"
    archive.write_bytes(archives.zip(archives.dataset("vangogh2photo")))
    main(["vangogh2photo", "--from-file", str(archive), "--root", str(tmp_path / "data")])
    assert (tmp_path / "data" / "vangogh2photo" / "trainB" / "1.png").is_file()


def test_offline_exits_2_and_points_to_from_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as exit_info:
        main(["horse2zebra", "--root", str(tmp_path), "--mirror", "http://127.0.0.1:9"])
    assert exit_info.value.code == 2
    assert "--from-file /path/to/horse2zebra.zip" in caplog.text


def test_name_is_required_without_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "--list" in capsys.readouterr().err


def test_module_entry_point_reports_one_line(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "unpaired.cli.download", "zebra2horse", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert "no data set is called 'zebra2horse'" in result.stderr

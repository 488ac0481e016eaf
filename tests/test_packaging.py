"""A non-editable install must run: the wheel carries the conf/ tree and the console script."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_every_config_and_the_console_script(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("unpaired-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    configs = {
        f"unpaired/conf/{p.relative_to(ROOT / 'conf')}" for p in (ROOT / "conf").rglob("*.yaml")
    }
    assert "unpaired/conf/train.yaml" in configs
    assert configs <= names
    assert "unpaired/cli/train.py" in names
    for tool in ("train", "translate", "export"):
        assert f"unpaired-{tool} = unpaired.cli.{tool}:main" in scripts


def test_config_dir_prefers_the_packaged_copy(tmp_path, monkeypatch):
    import unpaired.config as config

    assert config.config_dir() == ROOT / "conf"  # editable install: the repository's conf/
    (tmp_path / "conf").mkdir()
    monkeypatch.setattr(config, "_PACKAGE_DIR", tmp_path)
    assert config.config_dir() == tmp_path / "conf"

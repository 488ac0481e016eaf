"""A non-editable install must run: the wheel carries the conf/ tree, the console scripts and
our Hydra sweeper."""

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
    # our Optuna sweeper, where Hydra looks for plugins (a namespace package: no __init__.py)
    assert "hydra_plugins/unpaired_optuna_sweeper/__init__.py" in names
    assert "hydra_plugins/__init__.py" not in names
    for tool in ("train", "translate", "export", "report", "stylize"):
        assert f"unpaired-{tool} = unpaired.cli.{tool}:main" in scripts


def test_config_dir_prefers_the_packaged_copy(tmp_path, monkeypatch):
    import unpaired.config as config

    assert config.config_dir() == ROOT / "conf"  # editable install: the repository's conf/
    (tmp_path / "conf").mkdir()
    monkeypatch.setattr(config, "_PACKAGE_DIR", tmp_path)
    assert config.config_dir() == tmp_path / "conf"


def test_floors_file_pins_exactly_the_declared_lower_bounds():
    """`make test-floors` installs .ci/floors.txt and runs the suite there; that proves the floors
    of pyproject.toml only if the file pins each direct dependency at its declared lower bound."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: hatchling's own TOML parser
        import tomli as tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"], *extras["dev"], *extras["export"]]
    lower_bounds = {}
    for line in declared:
        requirement = Requirement(line)
        (bound,) = [s.version for s in requirement.specifier if s.operator == ">="]
        lower_bounds[canonicalize_name(requirement.name)] = Version(bound)
    lines = (ROOT / ".ci" / "floors.txt").read_text().splitlines()
    floors = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            floors[canonicalize_name(name)] = Version(version)
    assert floors == lower_bounds

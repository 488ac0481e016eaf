"""The README's table of config groups names every option in conf/ and nothing else: a preset,
model or data set added without its line (or removed with its line left) fails here."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
#: Groups whose options the table lists in full (``null`` is Hydra's, not a file).
GROUPS = (
    "data",
    "model",
    "model/generator",
    "model/discriminator",
    "model/predictor",
    "trainer",
    "logger",
    "callbacks",
    "experiment",
    "hparams_search",
    "pruner",
    "debug",
)


def table_options() -> dict[str, set[str]]:
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\| `([\w/]+)` \| (.*?) \|", line)
        if match and match[1] in GROUPS:
            rows[match[1]] = set(re.findall(r"`([\w/]+)`", match[2])) - {"null"}
    return rows


def conf_options(group: str) -> set[str]:
    """The group's option files (``experiment``: with their folders, ``stargan_v2/afhq``)."""
    folder = CONF / group
    files = folder.rglob("*.yaml") if group == "experiment" else folder.glob("*.yaml")
    return {path.relative_to(folder).with_suffix("").as_posix() for path in files}


def test_the_config_table_lists_every_option_of_every_group() -> None:
    table = table_options()
    assert set(table) == set(GROUPS)
    for group in GROUPS:
        assert table[group] == conf_options(group), group

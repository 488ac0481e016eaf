"""What the evaluation page's tests share: reading its tables as a person reads them, comparing
the numbers shown with those of results.json, and a headless Chromium."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from unpaired.domains import Translation
from unpaired.evaluation.html import MEAN_ROW
from unpaired.evaluation.results import model_entries, model_label, style_cells

#: The browsers and drivers looked for, as Debian's packages (chromium, chromium-driver) and
#: Google's install them.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVERS = ("chromedriver",)


class _Tables(HTMLParser):
    """The text of every table cell, per table, keyed by the table's id, else by its class and
    its number among the tables of that class (``images0``, ``images1``)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            named = dict(attrs)
            key = named.get("id")
            if key is None:
                kind = named.get("class") or "table"
                key = f"{kind}{sum(name.startswith(kind) for name in self.tables)}"
            self._table = self.tables.setdefault(key, [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read_tables(page: Path) -> dict[str, list[list[str]]]:
    """Table id (or class and number) -> rows of cell texts, the header row first."""
    parser = _Tables()
    parser.feed(page.read_text())
    return parser.tables


def _shows(text: str, values: Sequence[float]) -> bool:
    """Whether ``text`` shows exactly ``values``, each rounded to the digits shown."""
    shown = re.findall(r"-?\d+(?:\.(\d+))?", text)
    numbers = [float(match.group()) for match in re.finditer(r"-?\d+(?:\.\d+)?", text)]
    if len(numbers) != len(values):
        return False
    return all(
        abs(number - value) <= 0.5 * 10 ** -len(decimals) + 1e-12
        for number, value, decimals in zip(numbers, values, shown, strict=True)
    )


def metrics_shown(rows: list[list[str]], results: Mapping[str, Any]) -> None:
    """The metrics table ``rows`` (header first) show every number of ``results``: one row per
    model and translation, FID, KID ± std and the ground truth as measured, nothing else."""
    header, *body = rows
    entries = {model_label(entry): entry for entry in model_entries(results)}
    expected = {
        (label, name)
        for label, entry in entries.items()
        for name, value in entry.items()
        if isinstance(value, Mapping) and "n_translated" in value
    }
    seen = set()
    for row in body:
        cells = dict(zip(header, row, strict=True))
        if cells["translation"] == MEAN_ROW:
            means = style_cells(entries[cells["model"]]["styles_mean"])
            assert {k: v for k, v in cells.items() if k in means} == means
            continue
        source, target = cells["translation"].split(" → ")
        name = str(Translation(source, target))
        entry = entries[cells["model"]][name]
        seen.add((cells["model"], name))
        wanted = {"FID": [entry.get("fid")], "KID": [entry.get("kid"), entry.get("kid_std")]}
        wanted |= {metric: [value] for metric, value in entry.get("ground_truth", {}).items()}
        for guide, values in entry.get("styles", {}).items():
            wanted |= {f"FID {guide}": [values.get("fid")], f"LPIPS {guide}": [values["lpips"]]}
        for column, values in wanted.items():
            if None in values:
                assert cells.get(column, "—") == "—", (column, cells)
            else:
                assert _shows(cells[column], values), (column, cells[column], values)
        assert cells["images translated / reference"] == (
            f"{entry['n_translated']} / {entry['n_reference']}"
        )
    assert seen == expected


@pytest.fixture
def page_tables() -> Callable[[Path], dict[str, list[list[str]]]]:
    """:func:`read_tables`: a page's tables as cell texts."""
    return read_tables


@pytest.fixture
def assert_metrics_shown() -> Callable[[list[list[str]], Mapping[str, Any]], None]:
    """:func:`metrics_shown`: assert a metrics table shows the numbers of results.json."""
    return metrics_shown


@pytest.fixture(scope="session")
def browser_paths() -> tuple[str, str]:
    """(browser, driver) executables; the test is skipped, saying why, where there are none."""
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = next((path for name in DRIVERS if (path := shutil.which(name))), None)
    if browser is None or driver is None:
        pytest.skip(
            "no Chromium and chromedriver on PATH (looked for "
            f"{', '.join(BROWSERS)} and {', '.join(DRIVERS)}): apt-get install chromium "
            "chromium-driver, as .ci/run does on a Debian-like machine as root"
        )
    return browser, driver


@pytest.fixture
def browser(browser_paths: tuple[str, str]) -> Iterator[Any]:
    """A headless Chromium driven by selenium, 1280x900 CSS pixels at device scale 1."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_paths[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",  # as root (CI), Chromium refuses to start with its sandbox
        "--disable-gpu",
        "--window-size=1280,900",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(browser_paths[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()

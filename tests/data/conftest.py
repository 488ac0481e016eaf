"""Tiny on-disk data sets for the data tests."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

MakeFolders = Callable[..., Path]


def write_image(path: Path, size: tuple[int, int], rng: np.random.Generator) -> None:
    """A random RGB PNG of ``size`` = (width, height)."""
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGB").save(path)


@pytest.fixture
def make_domain_folders(tmp_path: Path) -> MakeFolders:
    """Factory: ``make(n_a, n_b, size=(w, h), phases=("train", "test"), truths=False)``.

    Writes ``<phase>A`` with ``n_a`` and ``<phase>B`` with ``n_b`` random PNGs named 0000.png...
    under ``tmp_path / "set"`` (plus ``<phase>A_true`` / ``<phase>B_true`` when ``truths``) and
    returns that root.
    """

    def make(
        n_a: int,
        n_b: int,
        size: tuple[int, int] = (16, 16),
        phases: tuple[str, ...] = ("train", "test"),
        truths: bool = False,
    ) -> Path:
        root = tmp_path / "set"
        rng = np.random.default_rng(0)
        folders = {"A": n_a, "B": n_b}
        if truths:
            folders |= {"A_true": n_a, "B_true": n_b}
        for phase in phases:
            for suffix, count in folders.items():
                for index in range(count):
                    write_image(root / f"{phase}{suffix}" / f"{index:04d}.png", size, rng)
        return root

    return make


@pytest.fixture
def make_named_domains(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make({"cat": 3, "dog": 2}, size=(w, h), phases=("train", "test"))``: the
    one-folder-per-domain layout, ``<phase>/<name>/0000.png ...``, under ``tmp_path / "named"``."""

    def make(
        counts: dict[str, int],
        size: tuple[int, int] = (16, 16),
        phases: tuple[str, ...] = ("train", "test"),
    ) -> Path:
        root = tmp_path / "named"
        rng = np.random.default_rng(1)
        for phase in phases:
            for name, count in counts.items():
                for index in range(count):
                    write_image(root / phase / name / f"{index:04d}.png", size, rng)
        return root

    return make

"""The built-in multi-domain synthetic set: the scenes of :mod:`unpaired.data.synthetic` in three
styles, one domain each, with every translation's truth known.

Domains (folder names): ``warm`` (style A: warm shapes on cream), ``cool`` (style B: cool outlined
shapes on navy), ``violet`` (style C: violet shapes on grey-green). Layout, one folder per domain::

    train/warm/  train/cool/  train/violet/     # each domain its own scenes (unpaired)
    test/warm/   test/cool/   test/violet/      # the SAME scenes in the three styles

Test image ``i`` of every domain shows scene ``i``, so the true translation of ``test/<X>/i``
into domain ``Y`` is ``test/<Y>/i``: evaluation with the images of each domain paired by index
(fixed pairing) holds every translation's truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from unpaired.data.synthetic import (
    GENERATOR_VERSION,
    Style,
    SyntheticSpec,
    ensure_record,
    random_scene,
    write_atomically,
    write_images,
)

#: Domain name -> the style it is rendered in.
STYLES: dict[str, Style] = {"warm": "A", "cool": "B", "violet": "C"}
#: Random-stream index of the test scenes (the training scenes of domain i use i).
_TEST_STREAM = len(STYLES)


def record(spec: SyntheticSpec) -> dict[str, int | str]:
    """What ``spec.json`` holds for ``spec``."""
    return {
        "generator_version": GENERATOR_VERSION,
        "layout": "styles",
        **{k: int(v) for k, v in vars(spec).items()},
    }


def write(folder: Path, spec: SyntheticSpec) -> None:
    """Write the set of ``spec`` into ``folder``."""
    rng = np.random.default_rng([spec.seed, _TEST_STREAM])
    test_scenes = [random_scene(rng) for _ in range(spec.n_test)]
    for index, (domain, style) in enumerate(STYLES.items()):
        rng = np.random.default_rng([spec.seed, index])
        train_scenes = [random_scene(rng) for _ in range(spec.n_train)]
        (folder / "train").mkdir(exist_ok=True)
        (folder / "test").mkdir(exist_ok=True)
        write_images(folder / "train" / domain, train_scenes, style, spec.image_size)
        write_images(folder / "test" / domain, test_scenes, style, spec.image_size)
    (folder / "spec.json").write_text(json.dumps(record(spec), indent=2) + "\n")


def ensure(root: Path, spec: SyntheticSpec) -> None:
    """Generate the set in ``root`` unless it is there; check that it is the set of ``spec``.

    Raises:
        DataError: ``root`` holds another set, or files that are not a synthetic set.
    """
    ensure_record(root, record(spec), lambda: write_atomically(root, lambda f: write(f, spec)))

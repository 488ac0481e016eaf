"""A run on data with one folder per domain (``train/cat/``, ``train/dog/``), through the entry
points: training logs by domain name, and a user translates and evaluates ``cat_to_dog``."""

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

TINY = [
    "model.generator.ngf=8",
    "model.generator.n_blocks=1",
    "model.discriminator.ndf=8",
    "model.discriminator.n_layers=2",
]


def named_set(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for phase, count in (("train", 3), ("test", 2)):
        for name in ("cat", "dog", "wild"):
            folder = root / phase / name
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{name}{index}.png")
    return root


def test_train_translate_and_evaluate_between_named_domains(run_cli, tmp_path: Path) -> None:
    data = named_set(tmp_path / "pets")
    folder = [
        "data=folder",
        f"data.root={data}",
        "data.domains=[cat,dog]",  # two of the three, for a two-domain method
        "data.load_size=32",
        "data.crop_size=32",
        "data.num_workers=0",
    ]
    train = run_cli(
        "train",
        [
            *folder,
            *TINY,
            f"paths.experiments_dir={tmp_path / 'runs'}",
            "name=pets",
            "model.scheduler.n_epochs=1",
            "model.scheduler.n_epochs_decay=0",
            "logger=csv",
            "trainer.accelerator=cpu",
            "trainer.log_every_n_steps=1",
        ],
        cwd=tmp_path,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    [run] = (tmp_path / "runs" / "pets").iterdir()
    with open(run / "csv" / "version_0" / "metrics.csv") as file:
        logged = set(next(csv.reader(file)))
    assert {"train/G_adv_cat_to_dog", "train/cycle_dog", "val/D_cat"} <= logged
    assert (run / "samples" / "val_epoch0000.png").is_file()
    checkpoint = run / "checkpoints" / "last.ckpt"

    translated = run_cli(
        "translate",
        [
            f"ckpt={checkpoint}",
            f"input={data / 'test' / 'cat'}",
            "output=dogs",
            "direction=cat_to_dog",
            "device=cpu",
        ],
        cwd=tmp_path,
    )
    assert translated.returncode == 0, translated.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "dogs").iterdir()) == ["cat0.png", "cat1.png"]

    evaluated = run_cli(
        "evaluate",
        [f"ckpt={checkpoint}", *folder, "metrics.fid=false", "metrics.kid=false", "device=cpu"],
        cwd=tmp_path,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    [evaluation] = (run / "evaluation").iterdir()
    results = json.loads((evaluation / "results.json").read_text())
    assert {"cat_to_dog", "dog_to_cat"} <= set(results)
    assert sorted(p.name for p in (evaluation / "images").iterdir()) == [
        "fake_cat", "fake_dog", "real_cat", "real_dog", "rec_cat", "rec_dog",
    ]  # fmt: skip
    page = (evaluation / "index.html").read_text()  # per translation, by the domains' names
    assert "<td>cat → dog</td>" in page and "<h2>dog → cat</h2>" in page
    assert "<th>input cat</th><th>fake dog</th><th>rec cat</th>" in page

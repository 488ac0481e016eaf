"""unpaired-translate's multimodal switches (target=, samples=N, style_ref=) with StarGAN v2 and
MUNIT checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.translate import translate
from unpaired.models.stargan_v2 import StarGANv2
from unpaired.utils.checkpoint import MODEL_TARGET_KEY

SIZE = 16


def node(target: str, **arguments: object) -> dict[str, object]:
    return {"_target_": f"unpaired.nn.stargan_v2.{target}", **arguments}


@pytest.fixture
def stargan_checkpoint(tmp_path: Path) -> Path:
    """An untrained tiny StarGAN v2 of the domains cat, dog, wild, saved as a run saves one."""
    torch.manual_seed(0)
    trunk = {"img_size": SIZE, "max_conv_dim": 8, "dim_in": 4}
    model = StarGANv2(
        generator=node("StarGANv2Generator", style_dim=4, w_hpf=0, **trunk),
        mapping_network=node("MappingNetwork", latent_dim=8, style_dim=4, hidden_dim=64),
        style_encoder=node("StyleEncoder", style_dim=4, **trunk),
        discriminator=node("StarGANv2Discriminator", **trunk),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        domains=("cat", "dog", "wild"),
        init_type="kaiming",
    )
    path = tmp_path / "stargan.ckpt"
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        MODEL_TARGET_KEY: model.target(),
    }
    torch.save(checkpoint, path)
    return path


def write_images(folder: Path, sizes: dict[str, tuple[int, int]]) -> None:
    rng = np.random.default_rng(0)
    for name, (height, width) in sizes.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


def run(compose_train: Callable, tmp_path: Path, *overrides: str) -> list[Path]:
    cfg = compose_train(
        [f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}", "num_workers=0", *overrides],
        config_name="translate",
    )
    return run_reporting_user_errors(translate, cfg)


def names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))


def test_samples_are_seeded_and_the_same_styles_for_every_image(
    stargan_checkpoint: Path, tmp_path: Path, compose_train: Callable
) -> None:
    write_images(tmp_path / "in", {"a.png": (20, 24), "sub/b.png": (16, 16)})
    ckpt = f"ckpt={stargan_checkpoint}"
    run(compose_train, tmp_path, ckpt, "target=wild", "samples=3", "seed=7")
    out = tmp_path / "out"
    assert names(out) == [f"{n}_sample{j}.png" for n in ("a", "sub/b") for j in range(3)]
    assert Image.open(out / "a_sample0.png").size == (24, 20)  # at the image's own size
    first = [np.asarray(Image.open(out / f"a_sample{j}.png")) for j in range(3)]
    assert not np.array_equal(first[0], first[1])
    (tmp_path / "again").mkdir()
    run(
        compose_train,
        tmp_path,
        ckpt,
        "target=wild",
        "samples=3",
        "seed=7",
        f"output={tmp_path / 'again'}",
    )
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again" / "a_sample2.png")), first[2])


def test_one_translation_per_style_reference(
    stargan_checkpoint: Path, tmp_path: Path, compose_train: Callable
) -> None:
    write_images(tmp_path / "in", {"a.png": (16, 16)})
    write_images(tmp_path / "refs", {"x.png": (40, 30), "y.jpg": (16, 16)})
    run(
        compose_train,
        tmp_path,
        f"ckpt={stargan_checkpoint}",
        "target=dog",
        f"style_ref={tmp_path / 'refs'}",
    )
    assert names(tmp_path / "out") == ["a_x.png", "a_y.png"]


def test_unknown_target_and_conflicting_switches_are_one_clear_error(
    stargan_checkpoint: Path, tmp_path: Path, compose_train: Callable, caplog
) -> None:
    write_images(tmp_path / "in", {"a.png": (16, 16)})
    with pytest.raises(SystemExit):
        run(compose_train, tmp_path, f"ckpt={stargan_checkpoint}", "target=horse", "samples=2")
    assert "target=horse is not a domain this model translates into" in caplog.text
    with pytest.raises(SystemExit):
        run(
            compose_train,
            tmp_path,
            f"ckpt={stargan_checkpoint}",
            "target=dog",
            "samples=2",
            f"style_ref={tmp_path}",
        )
    assert "either samples=N" in caplog.text


def test_a_single_style_model_refuses_samples(
    tiny_checkpoint: Path, tmp_path: Path, compose_train: Callable, caplog
) -> None:
    write_images(tmp_path / "in", {"a.png": (16, 16)})
    with pytest.raises(SystemExit):
        run(compose_train, tmp_path, f"ckpt={tiny_checkpoint}", "samples=2")
    assert "a CycleGAN model makes one translation per image" in caplog.text

"""Translating with an AdaIN checkpoint and reference style images: alpha, interpolation of
several styles, colour preservation, and ``unpaired-translate ... style_ref=``."""

from pathlib import Path

import pytest
import torch
from PIL import Image

import golden  # tests/golden/golden.py
from unpaired.errors import ConfigError
from unpaired.inference.style import style_translator
from unpaired.losses.style import adaptive_instance_norm
from unpaired.models.adain import AdaIN
from unpaired.stylization.images import read_image
from unpaired.utils.checkpoint import MODEL_TARGET_KEY


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = AdaIN(
        decoder={"_target_": "unpaired.nn.style.AdaINDecoder"},
        vgg_weights="random",
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-4},
    )
    # weights of a trained network's magnitudes (PyTorch's initialisation gives a flat image)
    shapes = {key: value.shape for key, value in model.state_dict().items()}
    model.load_state_dict(golden.seeded_weights(shapes, seed=7))
    path = tmp_path_factory.mktemp("adain") / "adain.ckpt"
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": dict(model.hparams),
            MODEL_TARGET_KEY: model.target(),
        },
        path,
    )
    return path


def save(folder: Path, name: str, seed: int, colour: tuple[int, int, int] | None = None) -> Path:
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (16, 24, 3), generator=generator)
    if colour is not None:  # a tinted image
        pixels = (pixels // 4 + torch.tensor(colour)).clamp(0, 255)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.to(torch.uint8).numpy()).save(folder / name)
    return folder / name


def content(seed: int = 1) -> torch.Tensor:
    return torch.rand(2, 3, 16, 24, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_alpha_blends_the_adain_target_with_the_content_features(
    checkpoint: Path, tmp_path: Path
) -> None:
    style = save(tmp_path, "style.png", 2)
    images = content()
    translate = style_translator(checkpoint, str(style), alpha=0.0)
    module = translate.module
    with torch.no_grad():
        features = module.encoder((images + 1) / 2)["relu4_1"]
        content_only = (module.decoder(features) * 2 - 1).clamp(-1, 1)
    torch.testing.assert_close(translate(images), content_only)
    half = style_translator(checkpoint, str(style), alpha=0.5)(images)
    full = style_translator(checkpoint, str(style), alpha=1.0)(images)
    assert not torch.allclose(half, full) and not torch.allclose(half, content_only)
    with torch.no_grad():
        style_features = module.encoder(read_image(style))["relu4_1"]
        target = 0.5 * adaptive_instance_norm(features, style_features) + 0.5 * features
        expected = (module.decoder(target) * 2 - 1).clamp(-1, 1)
    torch.testing.assert_close(half, expected)


def test_style_weights_interpolate_the_targets(checkpoint: Path, tmp_path: Path) -> None:
    first, second = save(tmp_path, "a.png", 3), save(tmp_path, "b.png", 4)
    images = content()
    only_first = style_translator(checkpoint, str(first))(images)
    assert torch.equal(
        style_translator(checkpoint, [str(first), str(second)], [1, 0])(images), only_first
    )
    mixed = style_translator(checkpoint, [str(first), str(second)], [1, 1])(images)
    only_second = style_translator(checkpoint, str(second))(images)
    assert not torch.allclose(mixed, only_first) and not torch.allclose(mixed, only_second)
    with pytest.raises(ConfigError, match="one non-negative weight per style image"):
        style_translator(checkpoint, [str(first), str(second)], [1])(images)


def test_preserve_color_gives_the_style_the_contents_colours(
    checkpoint: Path, tmp_path: Path
) -> None:
    red = save(tmp_path, "red.png", 5, colour=(190, 0, 0))
    images = content()
    plain = style_translator(checkpoint, str(red))(images)
    kept = style_translator(checkpoint, str(red), preserve_color=True)(images)
    assert not torch.allclose(plain, kept)


def test_translate_cli_with_style_ref(run_cli, checkpoint: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    save(inputs, "x.png", 6)
    save(inputs, "y.png", 7)
    style = save(tmp_path, "style.png", 8)
    args = [f"ckpt={checkpoint}", f"input={inputs}", f"output={tmp_path / 'out'}", "num_workers=0"]
    result = run_cli(
        "translate", [*args, f"style_ref={style}", "alpha=0.7", "preserve_color=true"], cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.png", "y.png"]
    assert Image.open(tmp_path / "out" / "x.png").size == (24, 16)


def test_adain_without_a_style_says_to_give_one(checkpoint: Path, tmp_path: Path) -> None:
    module = style_translator(checkpoint, str(save(tmp_path, "s.png", 9))).module
    with pytest.raises(ConfigError, match="style_ref=<image>"):
        module.translate(content(), "AtoB")


def test_translate_cli_refuses_samples_for_an_adain_model(
    run_cli, checkpoint: Path, tmp_path: Path
) -> None:
    """samples= and target= are the multimodal models' switches (StarGAN v2, MUNIT); an AdaIN
    model given them says what it takes instead, before anything is written."""
    save(tmp_path / "in", "x.png", 6)
    style = save(tmp_path, "style.png", 8)
    args = [f"ckpt={checkpoint}", f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}"]
    result = run_cli("translate", [*args, f"style_ref={style}", "samples=2"], cwd=tmp_path)
    assert result.returncode != 0
    assert "translates in the style of given images: pass style_ref=<image>" in result.stdout
    assert not list((tmp_path / "out").rglob("*.png"))  # Hydra makes the folder; nothing in it

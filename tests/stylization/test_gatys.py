"""Gatys et al.'s optimisation with random VGG weights: the loss falls by a stated factor, the
two loss scales differ by the layer-size factors they should, and ``unpaired-stylize`` writes the
result at the content image's size with its loss curve beside it."""

import csv
from pathlib import Path

import pytest
import torch
from PIL import Image

from unpaired.cli.stylize import stylize
from unpaired.errors import ConfigError
from unpaired.losses.style import gram_matrix
from unpaired.nn.vgg import VGGFeatures
from unpaired.stylization.gatys import GatysLoss, GatysSettings, optimise_image

PAPER = GatysSettings(
    "vgg19", ["conv4_2"], ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"], 1.0, 1e3, "paper"
)


def images(seed: int, n: int = 2) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(1, 3, 32, 32, generator=generator) for _ in range(n)]


@pytest.fixture(scope="module")
def vgg() -> VGGFeatures:
    with torch.random.fork_rng():  # seeded without moving the other tests' random stream
        torch.manual_seed(0)
        return VGGFeatures("vgg19", [*PAPER.content_layers, *PAPER.style_layers], weights="random")


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_the_loss_falls_by_a_stated_factor(vgg: VGGFeatures, optimizer: str) -> None:
    """Measured (random VGG-19, 32x32 noise images, 50 steps): L-BFGS 586x, Adam (lr 0.02) 173x."""
    content, style = images(1)
    loss = GatysLoss(vgg, PAPER, content, [style], [1.0])
    lr, factor = {"lbfgs": (1.0, 100), "adam": (0.02, 50)}[optimizer]
    result, curve = optimise_image(loss, content, 50, optimizer, lr)
    assert len(curve) == 50
    with torch.no_grad():
        final = sum(loss(result)).item()
    assert final < sum(curve[0]) / factor, (sum(curve[0]), final)
    assert result.min() >= 0 and result.max() <= 1


def test_the_paper_scale_is_the_tutorial_scale_times_the_layer_size_factors(
    vgg: VGGFeatures,
) -> None:
    content, style, image = images(2, 3)
    tutorial = GatysSettings("vgg19", ["conv4_2"], ["conv1_1"], 1.0, 1.0, "tutorial")
    paper = GatysSettings("vgg19", ["conv4_2"], ["conv1_1"], 1.0, 1.0, "paper")
    (c_t, s_t), (c_p, s_p) = (
        GatysLoss(vgg, s, content, [style], [1])(image) for s in (tutorial, paper)
    )
    features = vgg(image)
    assert c_p.item() == pytest.approx(c_t.item() * features["conv4_2"].numel() / 2, rel=1e-5)
    assert s_p.item() == pytest.approx(s_t.item() * 64**2 / 4, rel=1e-5)  # conv1_1: 64 channels
    expected = torch.nn.functional.mse_loss(
        gram_matrix(features["conv1_1"]), gram_matrix(vgg(style)["conv1_1"])
    )
    assert s_t.item() == pytest.approx(expected.item(), rel=1e-5)


def test_styles_mix_with_normalised_weights(vgg: VGGFeatures) -> None:
    content, first, second, image = images(3, 4)
    settings = GatysSettings("vgg19", ["conv4_2"], ["conv2_1"], 1.0, 1.0, "tutorial")
    alone = [GatysLoss(vgg, settings, content, [s], [1])(image)[1] for s in (first, second)]
    mixed = GatysLoss(vgg, settings, content, [first, second], [1, 3])(image)[1]
    assert mixed.item() == pytest.approx(0.25 * alone[0].item() + 0.75 * alone[1].item(), rel=1e-5)


def test_unknown_optimizer_is_refused(vgg: VGGFeatures) -> None:
    content, style = images(4)
    with pytest.raises(ConfigError, match="sgd"):
        optimise_image(GatysLoss(vgg, PAPER, content, [style], [1]), content, 2, "sgd")


def save(tmp_path: Path, name: str, seed: int, size: tuple[int, int]) -> Path:
    pixels = torch.randint(
        0, 256, (size[1], size[0], 3), generator=torch.Generator().manual_seed(seed)
    )
    path = tmp_path / name
    Image.fromarray(pixels.to(torch.uint8).numpy()).save(path)
    return path


def test_stylize_cli_writes_the_result_at_the_content_size_and_its_loss_curve(
    run_cli, tmp_path: Path
) -> None:
    content = save(tmp_path, "content.png", 5, (40, 24))
    styles = [save(tmp_path, f"style{i}.png", 6 + i, (20, 20)) for i in range(2)]
    output = tmp_path / "out" / "result.png"
    args = [
        f"content={content}",
        f"style=[{styles[0]},{styles[1]}]",
        "style_weights=[1,2]",
        f"output={output}",
        "size=16",  # optimised at 16 pixels on the shorter side, written at 40x24
        "steps=12",
        "gatys=tutorial",
        "preserve_color=true",
        "vgg_weights=random",
        "device=cpu",
    ]
    result = run_cli("stylize", args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert Image.open(output).size == (40, 24)
    with open(output.with_suffix(".csv")) as file:
        rows = list(csv.DictReader(file))
    assert [int(row["step"]) for row in rows] == list(range(1, 13))
    assert (tmp_path / "out" / "result_loss.png").is_file()

    wrong = run_cli("stylize", [*args[:2], "style_weights=[1]", *args[3:]], cwd=tmp_path)
    assert wrong.returncode != 0
    assert "style_weights=[1] for 2 style image(s)" in wrong.stdout + wrong.stderr


@pytest.mark.parametrize(("preset", "pooling"), [("paper", "average"), ("tutorial", "max")])
def test_the_paper_preset_average_pools_and_the_tutorial_max_pools(
    preset: str, pooling: str, compose_train, tmp_path: Path, monkeypatch
) -> None:
    """Gatys et al. replace VGG-19's max pooling by average pooling; the tutorial does not."""
    built = []

    def network(*args, **kwargs):  # the command's VGG, recorded and built as asked
        built.append(kwargs["pooling"])
        return VGGFeatures(*args, **kwargs)

    monkeypatch.setattr("unpaired.cli.stylize.VGGFeatures", network)
    content = save(tmp_path, "content.png", 5, (16, 16))
    overrides = [f"content={content}", f"style={content}", f"output={tmp_path / 'out.png'}"]
    overrides += [f"gatys={preset}", "size=null", "steps=1", "vgg_weights=random", "device=cpu"]
    stylize(compose_train(overrides, config_name="stylize"))
    assert built == [pooling]

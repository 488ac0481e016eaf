"""The style-transfer modules' losses against the anchors' formulas, and AdaIN's schedule."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from unpaired.losses.style import gram_matrix
from unpaired.models.johnson import FastStyleTransfer
from unpaired.models.schedules import inverse_decay

OPTIMIZER = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def test_inverse_decay_is_the_adain_authors_schedule() -> None:
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-4)
    scheduler = inverse_decay(optimizer, 5e-5)
    rates = []
    for _ in range(3):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([1e-4 / (1 + 5e-5 * i) for i in range(3)])
    state = scheduler.state_dict()
    restored = inverse_decay(torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-4), 5e-5)
    restored.load_state_dict(state)
    assert restored.get_last_lr() == scheduler.get_last_lr()


def test_johnson_loss_is_the_examples_formula(tmp_path: Path) -> None:
    """pytorch/examples: y = net(x * 255); content 1e5 * MSE(relu2_2(y/255), relu2_2(x)); style
    1e10 * sum over layers of MSE(gram(y), gram(style)); VGG input ImageNet-normalised."""
    style_path = tmp_path / "style.png"
    pixels = torch.randint(0, 256, (20, 20, 3), generator=torch.Generator().manual_seed(0))
    Image.fromarray(pixels.to(torch.uint8).numpy()).save(style_path)
    with torch.random.fork_rng():  # seeded without moving the other tests' random stream
        torch.manual_seed(0)
        model = FastStyleTransfer(
            transformer={"_target_": "unpaired.nn.style.TransformerNet", "width": 4, "n_blocks": 1},
            style_image=str(style_path),
            vgg_weights="random",
            optimizer=OPTIMIZER,
        )
        content = torch.rand(2, 3, 16, 16) * 2 - 1
    outputs = model.generate({"A": content})
    total, terms = model.loss({"A": content}, outputs)

    x = (content + 1) / 2 * 255
    y = model.transformer(x)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def vgg(images: torch.Tensor) -> dict[str, torch.Tensor]:
        h, found = (images / 255 - mean) / std, {}
        for name, layer in zip(model.loss_network.names, model.loss_network.features, strict=True):
            h = layer(h)
            found[name] = h
        return found

    fy, fx = vgg(y), vgg(x)
    style = torch.as_tensor(pixels, dtype=torch.float32).permute(2, 0, 1)[None]
    fs = vgg(style)
    layers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    expected_content = 1e5 * F.mse_loss(fy["relu2_2"], fx["relu2_2"])
    expected_style = 1e10 * sum(
        F.mse_loss(gram_matrix(fy[n]), gram_matrix(fs[n]).expand(2, -1, -1)) for n in layers
    )
    torch.testing.assert_close(terms["content"], expected_content, rtol=1e-4, atol=0)
    torch.testing.assert_close(terms["style"], expected_style, rtol=1e-4, atol=0)
    torch.testing.assert_close(total, expected_content + expected_style, rtol=1e-4, atol=0)

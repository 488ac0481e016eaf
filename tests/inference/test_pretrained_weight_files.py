"""A trained model whose frozen loss network or encoder came from a pretrained weights file (a
VGG) loads without that file: the checkpoint holds those weights."""

from pathlib import Path

import torch

from unpaired.evaluation.load import load_module
from unpaired.inference.load import load_safetensors
from unpaired.models.adain import STYLE_LAYERS, AdaIN
from unpaired.nn.vgg import VGGFeatures
from unpaired.utils.checkpoint import save_generators


def test_an_adain_checkpoint_translates_after_its_vgg_file_is_gone(
    tmp_path: Path, save_checkpoint
) -> None:
    torch.manual_seed(0)
    vgg_file = tmp_path / "vgg_normalised.pth"  # the authors' file layout: the Sequential's keys
    torch.save(
        VGGFeatures("vgg19_normalised", STYLE_LAYERS, "random").features.state_dict(), vgg_file
    )
    model = AdaIN(
        decoder={"_target_": "unpaired.nn.style.AdaINDecoder"},
        vgg_weights=str(vgg_file),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-4},
    ).eval()
    checkpoint = save_checkpoint(model, tmp_path / "run" / "checkpoints" / "last.ckpt")
    vgg_file.unlink()  # a trained model moved to another machine, without the VGG file

    loaded, _ = load_module(checkpoint)

    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert torch.equal(loaded.encoder(content)["relu4_1"], model.encoder(content)["relu4_1"])
    with torch.no_grad():
        expected = model.stylize(content * 2 - 1, [style * 2 - 1], None, 1.0, False)
        got = loaded.stylize(content * 2 - 1, [style * 2 - 1], None, 1.0, False)
    assert torch.equal(got, expected)


def test_an_adain_generators_file_holds_the_vgg_encoder_it_translates_with(
    tmp_path: Path,
) -> None:
    """``*.generators.safetensors`` is a trained model's shareable file: the frozen encoder that
    translating runs is in it, so the model it rebuilds is the trained one, not one with a
    random VGG."""
    torch.manual_seed(0)
    vgg_file = tmp_path / "vgg_normalised.pth"
    torch.save(
        VGGFeatures("vgg19_normalised", STYLE_LAYERS, "random").features.state_dict(), vgg_file
    )
    model = AdaIN(
        decoder={"_target_": "unpaired.nn.style.AdaINDecoder"},
        vgg_weights=str(vgg_file),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-4},
    ).eval()
    path = tmp_path / "last.generators.safetensors"
    save_generators(model, path)
    vgg_file.unlink()

    loaded = load_safetensors(path, "AtoB").module

    content = torch.rand(1, 3, 32, 32)
    assert torch.equal(loaded.encoder(content)["relu4_1"], model.encoder(content)["relu4_1"])

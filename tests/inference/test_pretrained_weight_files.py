"""A trained model whose frozen loss network or encoder came from a pretrained weights file (a
VGG) loads without that file: the checkpoint holds those weights."""

from pathlib import Path

import torch

from unpaired.evaluation.load import load_module
from unpaired.inference.load import load_safetensors
from unpaired.models.adain import STYLE_LAYERS, AdaIN
from unpaired.models.stargan_v2 import StarGANv2
from unpaired.nn.vgg import VGGFeatures
from unpaired.utils.checkpoint import save_generators

NETS = "unpaired.nn.stargan_v2"


def adain_with_its_vgg_file(folder: Path) -> tuple[AdaIN, Path]:
    """An AdaIN model whose VGG was read from a file of the authors' layout (the Sequential's
    keys), with random weights, and that file."""
    torch.manual_seed(0)
    vgg_file = folder / "vgg_normalised.pth"
    torch.save(
        VGGFeatures("vgg19_normalised", STYLE_LAYERS, "random").features.state_dict(), vgg_file
    )
    model = AdaIN(
        decoder={"_target_": "unpaired.nn.style.AdaINDecoder"},
        vgg_weights=str(vgg_file),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-4},
    )
    return model.eval(), vgg_file


def test_an_adain_checkpoint_translates_after_its_vgg_file_is_gone(
    tmp_path: Path, save_checkpoint, caplog
) -> None:
    model, vgg_file = adain_with_its_vgg_file(tmp_path)
    checkpoint = save_checkpoint(model, tmp_path / "run" / "checkpoints" / "last.ckpt")
    vgg_file.unlink()  # a trained model moved to another machine, without the VGG file

    loaded, _ = load_module(checkpoint)
    assert "was trained with" not in caplog.text  # the file's path is no setting that differs

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
    model, vgg_file = adain_with_its_vgg_file(tmp_path)
    path = tmp_path / "last.generators.safetensors"
    save_generators(model, path)
    vgg_file.unlink()

    loaded = load_safetensors(path, "AtoB").module

    content = torch.rand(1, 3, 32, 32)
    assert torch.equal(loaded.encoder(content)["relu4_1"], model.encoder(content)["relu4_1"])


def test_a_stargan_v2_of_the_face_mask_setting_translates_from_its_files_without_wing_ckpt(
    tmp_path: Path, save_checkpoint, wing_file: tuple[Path, dict[str, torch.Tensor]]
) -> None:
    """``w_hpf=1`` runs the authors' face-landmark network at every translation: its weights
    travel in the checkpoint and in the generators file."""
    torch.manual_seed(0)
    wing, state = wing_file
    trunk = {"img_size": 64, "max_conv_dim": 8, "dim_in": 4}
    model = StarGANv2(
        generator={"_target_": f"{NETS}.StarGANv2Generator", "style_dim": 4, "w_hpf": 1, **trunk},
        mapping_network={"_target_": f"{NETS}.MappingNetwork", "latent_dim": 3, "style_dim": 4},
        style_encoder={"_target_": f"{NETS}.StyleEncoder", "style_dim": 4, **trunk},
        discriminator={"_target_": f"{NETS}.StarGANv2Discriminator", **trunk},
        fan_weights=str(wing),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        domains=("female", "male"),
    ).eval()
    checkpoint = save_checkpoint(model, tmp_path / "run" / "checkpoints" / "last.ckpt")
    generators = tmp_path / "last.generators.safetensors"
    save_generators(model, generators)
    wing.unlink()

    images = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        expected = model.translate(images, "female_to_male")
        for loaded in (
            load_module(checkpoint)[0],
            load_safetensors(generators, "female_to_male").module,
        ):
            assert torch.equal(loaded.fan.l0.weight, state["l0.weight"])
            assert torch.equal(loaded.translate(images, "female_to_male"), expected)

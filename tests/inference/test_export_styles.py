"""unpaired-export of StarGAN v2: its generator (images, style) with the two networks that make a
style, as TorchScript files that translate as the module does, latent- and reference-guided."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from unpaired.errors import CheckpointError, ConfigError
from unpaired.inference.export import export
from unpaired.inference.load import TORCHSCRIPT_METADATA, load_torch_generator, load_translator
from unpaired.models.base import GenerativeModule
from unpaired.models.stargan_v2 import StarGANv2

SIZE = 16
DOMAINS = ("cat", "dog", "wild")


def node(target: str, **arguments: object) -> dict[str, object]:
    return {"_target_": f"unpaired.nn.stargan_v2.{target}", **arguments}


@pytest.fixture
def stargan_checkpoint(
    tmp_path: Path, save_checkpoint: Callable[[GenerativeModule, Path], Path]
) -> Path:
    """A tiny StarGAN v2 whose averaged weights differ from its trained ones (traced on one
    image: the exported networks must take any batch)."""
    torch.manual_seed(0)
    trunk = {"img_size": SIZE, "max_conv_dim": 8, "dim_in": 4}
    model = StarGANv2(
        generator=node("StarGANv2Generator", style_dim=4, w_hpf=0, **trunk),
        mapping_network=node("MappingNetwork", latent_dim=3, style_dim=4, hidden_dim=8),
        style_encoder=node("StyleEncoder", style_dim=4, **trunk),
        discriminator=node("StarGANv2Discriminator", **trunk),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        domains=DOMAINS,
        init_type="kaiming",
        ema={"enabled": True, "decay": 0.999},
    )
    with torch.no_grad():  # the trained weights move away from their averages
        for parameter in model.generator.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return save_checkpoint(model, tmp_path / "stargan.ckpt")


def test_the_exported_networks_translate_as_the_module_with_latents_and_references(
    stargan_checkpoint: Path, tmp_path: Path
) -> None:
    files = export(stargan_checkpoint, tmp_path / "out")  # the formats it can be written in
    assert [path.name for path in files] == [
        "stargan_generator.pt",
        "stargan_mapping_network.pt",
        "stargan_style_encoder.pt",
    ]
    networks = {}
    for path in files:
        extra = {TORCHSCRIPT_METADATA: ""}
        networks[path.stem.removeprefix("stargan_")] = torch.jit.load(str(path), _extra_files=extra)
        assert json.loads(json.loads(extra[TORCHSCRIPT_METADATA])["domains"]) == list(DOMAINS)
    module = load_torch_generator(stargan_checkpoint, "cat_to_dog")[0].module  # EMA weights
    torch.manual_seed(1)
    images = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    references = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    latents = torch.randn(2, 3)  # one per image
    dog = torch.tensor([DOMAINS.index("dog")] * 2)
    with torch.no_grad():
        style = networks["mapping_network"](latents, dog)
        latent_guided = networks["generator"](images, style)
        style = networks["style_encoder"](references, dog)
        reference_guided = networks["generator"](images, style)
        translation = module.translation("cat_to_dog")
        expected = torch.cat(
            [
                module.translate_with_latents(images[i : i + 1], translation, latents[i : i + 1])
                for i in range(2)
            ]
        )[:, 0]
        assert torch.allclose(latent_guided, expected, atol=1e-5)
        expected = module.translate_with_style(images, references, translation)
        assert torch.allclose(reference_guided, expected, atol=1e-5)
        raw = load_torch_generator(stargan_checkpoint, "cat_to_dog", weights="raw")[0].module
        assert not torch.allclose(
            raw.translate_with_style(images, references, translation), expected
        )


def test_other_formats_and_reading_a_network_as_a_translator_are_refused(
    stargan_checkpoint: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"TorchScript networks only \(formats=\[torchscript\]\)"):
        export(stargan_checkpoint, tmp_path, formats=["torchscript", "onnx"])
    generator, *_ = export(stargan_checkpoint, tmp_path, formats=["torchscript"])
    with pytest.raises(CheckpointError, match=r"takes \(images, style\) -> images"):
        load_translator(generator)


def test_the_exported_generator_of_the_face_mask_setting_makes_its_own_masks(
    tmp_path: Path, save_checkpoint: Callable[[GenerativeModule, Path], Path]
) -> None:
    """``w_hpf=1``: the generator file holds the face-landmark network and takes the same
    ``(images, style)`` as any other."""
    torch.manual_seed(0)
    trunk = {"img_size": 64, "max_conv_dim": 8, "dim_in": 4}
    model = StarGANv2(
        generator=node("StarGANv2Generator", style_dim=4, w_hpf=1, **trunk),
        mapping_network=node("MappingNetwork", latent_dim=3, style_dim=4, hidden_dim=8),
        style_encoder=node("StyleEncoder", style_dim=4, **trunk),
        discriminator=node("StarGANv2Discriminator", **trunk),
        fan_weights="random",
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        domains=("female", "male"),
    ).eval()
    checkpoint = save_checkpoint(model, tmp_path / "celeba.ckpt")
    generator = export(checkpoint, tmp_path / "out", formats=["torchscript"])[0]
    images, references = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        style = model.style_encoder(references, torch.tensor([1])).expand(2, -1)
        exported = torch.jit.load(str(generator))(images, style)
        expected = model.translate_with_style(images, references, "female_to_male")
    torch.testing.assert_close(exported, expected, atol=1e-5, rtol=1e-5)

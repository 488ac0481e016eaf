"""Our networks compute what the AUTHORS' networks compute, on the same weights and inputs.

Each fixture in tests/golden/ holds the outputs of one of the authors' networks (CycleGAN/pix2pix,
CUT, UNIT, MUNIT; README.md there says how they were made) for seeded weights and a seeded input,
with their state-dict key names and shapes. Here our network is built from our configs with the
same arguments, given the same seeded weights by key (renamed only where our module tree differs
from theirs, by the explicit maps below), run on the same input, and compared. Unlike tests
that compare our networks with themselves, these catch a missing skip connection, a wrong
slope, a dropped blur or a wrong split of MUNIT's AdaIN parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor, nn

import golden  # tests/golden/golden.py (pytest puts tests/golden on the path)
from unpaired.models.adain import STYLE_LAYERS, adain_losses
from unpaired.nn import (
    PatchSampleMLP,
    face_landmarks,
    feature_layers,
    sequential_features,
    stargan_v2,
)
from unpaired.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from unpaired.nn.style import AdaINDecoder, TransformerNet
from unpaired.nn.vgg import VGGFeatures

CONF = Path(__file__).parents[2] / "conf" / "model"


def config(group: str, name: str, **overrides: Any) -> nn.Module:
    """Our network from conf/model/<group>/<name>.yaml with ``overrides`` (sizes, variants)."""
    node = OmegaConf.merge(OmegaConf.load(CONF / group / f"{name}.yaml"), overrides)
    return instantiate(node)


# --- key maps: the authors' state-dict key -> ours (None: a buffer we do not have) ---------------

Rule = tuple[str, str | Callable[[re.Match[str]], str] | None]

#: UNIT's VAEGen and MUNIT's AdaINGen keep each encoder/decoder in one ``model`` Sequential, with
#: the residual blocks in a nested ``ResBlocks.model``, and wrap each MLP layer in a
#: ``LinearBlock.fc``; ours split ``downsample`` / ``res_blocks`` / ``upsample`` and keep the MLP a
#: plain Sequential (Linear, activation, ...).
AUTOENCODER_RULES: list[Rule] = [
    # MUNIT's AdaIN layers register running_mean/var that they never use ("dummy buffers")
    (r"dec\.model\.0\.model\.\d+\.model\.\d+\.norm\.running_(mean|var)", None),
    (r"(enc|enc_content)\.model\.\d+\.model\.(\d+)\.(.*)", r"\1.res_blocks.\2.\3"),
    (r"(enc|enc_content)\.model\.(\d+)\.(.*)", r"\1.downsample.\2.\3"),
    (r"dec\.model\.0\.model\.(\d+)\.(.*)", r"dec.res_blocks.\1.\2"),
    (r"dec\.model\.(\d+)\.(.*)", lambda m: f"dec.upsample.{int(m[1]) - 1}.{m[2]}"),
    (r"mlp\.model\.(\d+)\.fc\.(.*)", lambda m: f"mlp.model.{2 * int(m[1])}.{m[2]}"),
]


#: The AdaIN authors' ``Net`` splits their VGG Sequential into enc_1 .. enc_4 (layers [:4],
#: [4:11], [11:18], [18:31]); ours keeps one Sequential (``encoder.features``).
ADAIN_ENCODER_OFFSETS = (0, 4, 11, 18)
ADAIN_RULES: list[Rule] = [
    (
        r"enc_(\d)\.(\d+)\.(.*)",
        lambda m: f"encoder.features.{ADAIN_ENCODER_OFFSETS[int(m[1]) - 1] + int(m[2])}.{m[3]}",
    ),
]


def renamer(rules: list[Rule]) -> Callable[[str], str | None]:
    def rename(key: str) -> str | None:
        for pattern, replacement in rules:
            match = re.fullmatch(pattern, key)
            if match is None:
                continue
            if replacement is None:
                return None
            if isinstance(replacement, str):
                return match.expand(replacement)
            return replacement(match)
        return key

    return rename


def same_key(key: str) -> str | None:
    return key


# --- how our network is run for each fixture ----------------------------------------------------

Run = Callable[[nn.Module, dict[str, Tensor], dict[str, Any]], dict[str, Tensor]]


def run_plain(net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Tensor]:
    return {"out": net(inputs["x"])}


def run_cut_generator(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    layers = meta["nce_layers"]
    features = sequential_features(feature_layers(net), inputs["x"], layers)
    return {"out": net(inputs["x"])} | {
        f"feature{layer}": f for layer, f in zip(layers, features, strict=True)
    }


def run_patch_sample(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    features = [inputs[f"feature{i}"] for i in range(len(net.in_channels))]
    positions = [
        golden.seeded_positions(meta["num_patches"], f.shape[2] * f.shape[3], seed)
        for f, seed in zip(features, meta["patch_id_seeds"], strict=True)
    ]
    samples, _ = net(features, meta["num_patches"], positions)
    return {f"sample{i}": s for i, s in enumerate(samples)}


def run_vae(net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Tensor]:
    hidden = net.encode(inputs["x"])
    return {"hidden": hidden, "recon": net.decode(hidden)}


def run_adain(net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Tensor]:
    content, style = net.encode(inputs["x"])
    return {
        "content": content,
        "style": style[:, :, None, None],  # theirs keeps the final 1x1 conv's map; ours flattens
        "recon": net.decode(content, style),
        "decoded_style": net.decode(content, inputs["style"]),
    }


def run_multiscale(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    return {f"scale{i}": out for i, out in enumerate(net(inputs["x"]))}


def run_dcgan_discriminator(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    # theirs ends with a sigmoid and flattens; ours returns the logit (BCE on logits)
    return {"out": torch.sigmoid(net(inputs["x"])).flatten()}


def run_predictor(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    return {"out": net(inputs["x0"], inputs["x1"])}


def stargan_v2_domains(n: int) -> Tensor:
    return torch.arange(n) % 3  # the fixtures' domains: 0, 1, 2, 0, ...


def run_stargan_v2_generator(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    masks = (inputs["mask0"], inputs["mask1"]) if "mask0" in inputs else None
    return {"out": net(inputs["x"], inputs["s"], masks=masks)}


def run_stargan_v2_conditional(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    return {"out": net(inputs["x"], stargan_v2_domains(len(inputs["x"])))}


def run_fan(net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Tensor]:
    return {"heatmaps": face_landmarks.landmark_heatmaps(net, inputs["x"])}


def run_face_masks(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    def blob_landmarks(images: Tensor) -> Tensor:  # a landmark network's output, any image
        return golden.landmark_heatmaps(inputs["points"])

    face, inner = face_landmarks.face_masks(blob_landmarks, inputs["x"])
    return {"face": face, "inner": inner}


class AdaINLossNet(nn.Module):
    """Our encoder and decoder in the place of the authors' ``Net``, run by their losses."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = VGGFeatures("vgg19_normalised", STYLE_LAYERS, weights="random")
        self.decoder = AdaINDecoder()


def run_adain_losses(
    net: nn.Module, inputs: dict[str, Tensor], meta: dict[str, Any]
) -> dict[str, Tensor]:
    loss_content, loss_style, _ = adain_losses(
        net.encoder, net.decoder, inputs["content"], inputs["style"]
    )
    return {"loss_c": loss_content, "loss_s": loss_style}


@dataclass
class Ours:
    build: Callable[[], nn.Module]
    run: Run = run_plain
    rename: Callable[[str], str | None] = same_key


def generator(name: str, **overrides: Any) -> Ours:
    return Ours(lambda: config("generator", name, **overrides))


def discriminator(name: str, **overrides: Any) -> Ours:
    return Ours(lambda: config("discriminator", name, **overrides))


OURS: dict[str, Ours] = {
    "cyclegan/resnet_6blocks": generator("resnet_6blocks", ngf=8),
    "cyclegan/resnet_6blocks_dropout": generator("resnet_6blocks", ngf=8, use_dropout=True),
    "cyclegan/resnet_9blocks": generator("resnet_9blocks", ngf=8),
    "cyclegan/resnet_9blocks_dropout": generator("resnet_9blocks", ngf=8, use_dropout=True),
    "cyclegan/resnet_9blocks_batch": generator("resnet_9blocks", ngf=8, norm="batch"),
    "cyclegan/resnet_9blocks_batch_train": generator("resnet_9blocks", ngf=8, norm="batch"),
    "cyclegan/unet_128": generator("unet_128", ngf=8),
    "cyclegan/unet_256": generator("unet_256", ngf=8),
    "cyclegan/unet_256_batch_dropout": generator("unet_256", ngf=8, norm="batch", use_dropout=True),
    "cyclegan/unet_128_batch_train": generator("unet_128", ngf=8, norm="batch"),
    **{
        f"cyclegan/patchgan_n{n}": discriminator("n_layers", ndf=8, n_layers=n) for n in range(1, 6)
    },
    "cyclegan/patchgan_batch": discriminator("patchgan", ndf=8, norm="batch"),
    "cyclegan/patchgan_batch_train": discriminator("patchgan", ndf=8, norm="batch"),
    "cyclegan/pixel": discriminator("pixel", ndf=8),
    "cyclegan/pixel_batch": discriminator("pixel", ndf=8, norm="batch"),
    "cut/resnet_9blocks_antialias": Ours(
        lambda: config("generator", "resnet_9blocks_antialias", ngf=8), run_cut_generator
    ),
    "cut/patchgan_antialias": discriminator("patchgan_antialias", ndf=8),
    "cut/patch_sample_mlp": Ours(lambda: PatchSampleMLP([3, 16, 32], nc=16), run_patch_sample),
    "unit/vae_gen": Ours(
        lambda: config("generator", "unit_vae", dim=8), run_vae, renamer(AUTOENCODER_RULES)
    ),
    "unit/ms_image_dis": Ours(lambda: config("discriminator", "multiscale", dim=8), run_multiscale),
    "unit/ms_image_dis_instance": Ours(
        lambda: config("discriminator", "multiscale", dim=8, norm="instance"), run_multiscale
    ),
    **{
        f"dcgan/generator{mode}": Ours(lambda: DCGANGenerator(nz=16, ngf=8))
        for mode in ("", "_train")
    },
    **{
        f"dcgan/discriminator{mode}": Ours(
            lambda: DCGANDiscriminator(ndf=8), run_dcgan_discriminator
        )
        for mode in ("", "_train")
    },
    "recycle/predictor_unet_256": Ours(
        lambda: config("predictor", "unet_256", channels=3, ngf=4), run_predictor
    ),
    "recycle/predictor_prediction": Ours(
        lambda: config("predictor", "prediction", input_nc=3, output_nc=3, npf=2), run_predictor
    ),
    "stargan_v2/generator": Ours(
        lambda: stargan_v2.StarGANv2Generator(64, 16, max_conv_dim=32, w_hpf=0),
        run_stargan_v2_generator,
    ),
    "stargan_v2/generator_hpf": Ours(
        lambda: stargan_v2.StarGANv2Generator(64, 16, max_conv_dim=32, w_hpf=1),
        run_stargan_v2_generator,
    ),
    "stargan_v2/mapping_network": Ours(
        lambda: stargan_v2.MappingNetwork(8, 16, num_domains=3), run_stargan_v2_conditional
    ),
    "stargan_v2/style_encoder": Ours(
        lambda: stargan_v2.StyleEncoder(64, 16, num_domains=3, max_conv_dim=32),
        run_stargan_v2_conditional,
    ),
    "stargan_v2/discriminator": Ours(
        lambda: stargan_v2.StarGANv2Discriminator(64, num_domains=3, max_conv_dim=32),
        run_stargan_v2_conditional,
    ),
    "stargan_v2/fan": Ours(lambda: face_landmarks.FAN("random"), run_fan),
    "stargan_v2/face_masks": Ours(nn.Module, run_face_masks),
    "munit/adain_gen": Ours(
        lambda: config("generator", "munit_adain", dim=8, mlp_dim=16),
        run_adain,
        renamer(AUTOENCODER_RULES),
    ),
    "style/transformer_net": Ours(TransformerNet),
    "style/adain_decoder": Ours(AdaINDecoder),
    "style/adain_losses": Ours(AdaINLossNet, run_adain_losses, renamer(ADAIN_RULES)),
}

FIXTURES = {f"{p.parent.name}/{p.stem}": p for p in golden.fixture_paths()}


def test_every_fixture_has_a_test_and_every_test_a_fixture() -> None:
    assert set(FIXTURES) == set(OURS)


def mapped_keys(fixture: Any, rename: Callable[[str], str | None]) -> dict[str, str]:
    """Authors' key -> our key, for every entry we have a place for (injective)."""
    mapping = {key: rename(key) for key in fixture.keys}
    kept = {theirs: ours for theirs, ours in mapping.items() if ours is not None}
    assert len(set(kept.values())) == len(kept), "two of the authors' keys map to one of ours"
    return kept


def loaded(case: str) -> tuple[nn.Module, Any, Ours]:
    """Our network of ``case`` holding the fixture's seeded weights (their fixed buffers are
    compared with ours, never copied), in the fixture's mode."""
    fixture = golden.Fixture(FIXTURES[case])
    ours = OURS[case]
    net = ours.build()
    keys = mapped_keys(fixture, ours.rename)
    state = net.state_dict()
    assert set(keys.values()) == set(state), (
        f"keys differ from the authors': ours only {sorted(set(state) - set(keys.values()))[:5]}, "
        f"theirs only {sorted(set(keys.values()) - set(state))[:5]}"
    )
    for theirs, our_key in keys.items():
        assert tuple(state[our_key].shape) == fixture.keys[theirs], (theirs, our_key)
    for theirs, value in fixture.fixed.items():
        assert torch.equal(state[keys[theirs]], value), f"buffer {theirs} differs from theirs"
    seeded = golden.seeded_weights(fixture.keys, fixture.meta["weight_seed"])
    weights = {keys[k]: v for k, v in seeded.items() if k in keys}
    net.load_state_dict({**state, **weights}, strict=True)
    net.train(fixture.meta["mode"] == "train")
    return net, fixture, ours


@pytest.mark.parametrize("case", sorted(OURS))
def test_output_equals_the_authors(case: str) -> None:
    net, fixture, ours = loaded(case)
    with torch.no_grad():
        outputs = ours.run(net, fixture.inputs(), fixture.meta)
    assert list(outputs) == fixture.meta["outputs"]
    for name, output in outputs.items():
        fixture.check(name, output)


def test_fixtures_are_nontrivial() -> None:
    """A fixture whose outputs do not depend on the input would prove nothing."""
    for case, path in FIXTURES.items():
        fixture = golden.Fixture(path)
        for name in fixture.meta["outputs"]:
            values = fixture.tensors.get(
                f"out.{name}.full", fixture.tensors.get(f"out.{name}.values")
            )
            if values.numel() == 1:  # a loss: it must not vanish
                assert values.abs().item() > 1e-4, (case, name)
            else:
                assert values.std() > 1e-3, (case, name)


def test_cut_config_samples_the_fixture_layers() -> None:
    """The CUT fixture's features are those of the layers our CUT preset uses."""
    fixture = golden.Fixture(FIXTURES["cut/resnet_9blocks_antialias"])
    assert list(OmegaConf.load(CONF / "cut.yaml").nce_layers) == fixture.meta["nce_layers"]


def test_only_munits_unused_adain_buffers_have_no_place_in_ours() -> None:
    fixture = golden.Fixture(FIXTURES["munit/adain_gen"])
    dropped = [k for k in fixture.keys if OURS["munit/adain_gen"].rename(k) is None]
    assert dropped and all(k.endswith((".running_mean", ".running_var")) for k in dropped)
    assert all(".norm." in k and k.startswith("dec.model.0.") for k in dropped)

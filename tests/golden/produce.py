"""Produce the golden fixtures of this folder by running the AUTHORS' networks.

    python tests/golden/produce.py --cyclegan DIR --cut DIR --unit DIR --munit DIR [--only NAME ...]

Each DIR is a checkout of the authors' repository (README.md says which, at which commit, and
how the CycleGAN one was obtained); its commit is read with ``git rev-parse HEAD``, or from a file
named ``COMMIT`` at its top when it is not a git work tree. Their modules are imported from
there; none of their code is in this repository. For every case the authors' network is built
with their own constructor, its state dict is filled by :func:`golden.seeded_weights` (by key),
it is run on seeded inputs, and the outputs are written with the key names and shapes of their
state dict to ``tests/golden/<group>/<case>.safetensors``.

It also writes ``training/cyclegan_steps.safetensors``: their ``CycleGANModel`` (from the
CycleGAN checkout's ``models/cycle_gan_model.py``) with seeded weights in its four networks,
trained for 4 steps by ``optimize_parameters`` on seeded images: the losses of every step and
checksums of each network's weights after the last (``golden.weight_checksums``).

Where the same network exists in two of the authors' repositories (the CycleGAN networks in
CUT's copy of networks.py with anti-aliasing off; UNIT's networks in MUNIT's networks.py), the
second copy is run too and must give bit-identical outputs: a check on the checkouts themselves.
The training steps are run again with CUT's copy of ``CycleGANModel`` in the same way.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden import (
    GOLDEN_DIR,
    Fixture,
    fixture_paths,
    is_fixed,
    save_fixture,
    seeded_input,
    seeded_normal,
    seeded_positions,
    seeded_weights,
    weight_checksums,
)

REPOSITORIES = {
    "cyclegan": "junyanz/pytorch-CycleGAN-and-pix2pix",
    "cut": "taesungp/contrastive-unpaired-translation",
    "unit": "mingyuliutw/UNIT",
    "munit": "NVlabs/MUNIT",
    "examples": "pytorch/examples",
    "adain": "naoto0804/pytorch-AdaIN",
    "recycle": "aayushbansal/Recycle-GAN",
}
WEIGHT_SEED = 2024
#: CUT's PatchNCE layers (--nce_layers 0,4,8,12,16).
NCE_LAYERS = [0, 4, 8, 12, 16]
#: Patches sampled per layer in the PatchSampleF case, and the width of its heads.
NUM_PATCHES, NETF_NC = 16, 16


#: Top-level module names that several checkouts use for different code.
SHARED_NAMES = ("models", "util", "networks")


def forget_shared_modules() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in SHARED_NAMES]:
        del sys.modules[name]


def import_from(root: Path, dotted: str) -> ModuleType:
    """Import ``dotted`` (e.g. ``models.networks``) from the checkout ``root``, keeping it apart
    from same-named modules of the other checkouts (``models``, ``util``, ``networks``)."""
    forget_shared_modules()
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(dotted)
    finally:
        sys.path.remove(str(root))
        forget_shared_modules()


def commit_of(root: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return (root / "COMMIT").read_text().split()[0]


def image(shape: tuple[int, ...], seed: int) -> dict[str, Any]:
    return {"shape": list(shape), "seed": seed, "kind": "image"}


def normal(shape: tuple[int, ...], seed: int) -> dict[str, Any]:
    return {"shape": list(shape), "seed": seed, "kind": "normal"}


Build = Callable[[dict[str, ModuleType]], nn.Module]
Run = Callable[[nn.Module, dict[str, Tensor]], dict[str, Tensor]]


def run_plain(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    return {"out": net(inputs["x"])}


@dataclass
class Case:
    group: str
    name: str
    source: str
    call: str  # the authors' call that builds the network, for the README and the header
    build: Build
    inputs: dict[str, dict[str, Any]]
    run: Run = run_plain
    mode: str = "eval"
    #: another checkout whose copy of the network must give the same outputs: (source, build)
    cross: tuple[str, Build] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[nn.Module, dict[str, Tensor]], None] | None = None


# --- CycleGAN / pix2pix -------------------------------------------------------------------------


def cyclegan_g(net_g: str, norm: str, dropout: bool) -> tuple[str, Build, Build]:
    call = f"networks.define_G(3, 3, 8, {net_g!r}, norm={norm!r}, use_dropout={dropout})"

    def theirs(m: dict[str, ModuleType]) -> nn.Module:
        return m["cyclegan"].define_G(3, 3, 8, net_g, norm=norm, use_dropout=dropout)

    def cut_copy(m: dict[str, ModuleType]) -> nn.Module:
        return m["cut"].define_G(
            3, 3, 8, net_g, norm=norm, use_dropout=dropout, no_antialias=True, no_antialias_up=True
        )

    return call, theirs, cut_copy


def cyclegan_d(net_d: str, n_layers: int, norm: str) -> tuple[str, Build, Build]:
    call = f"networks.define_D(3, 8, {net_d!r}, n_layers_D={n_layers}, norm={norm!r})"

    def theirs(m: dict[str, ModuleType]) -> nn.Module:
        return m["cyclegan"].define_D(3, 8, net_d, n_layers_D=n_layers, norm=norm)

    def cut_copy(m: dict[str, ModuleType]) -> nn.Module:
        return m["cut"].define_D(3, 8, net_d, n_layers_D=n_layers, norm=norm, no_antialias=True)

    return call, theirs, cut_copy


def cyclegan_cases() -> list[Case]:
    cases = []
    generators = [
        ("resnet_6blocks", "resnet_6blocks", "instance", False, (2, 3, 32, 32), "eval"),
        ("resnet_6blocks_dropout", "resnet_6blocks", "instance", True, (2, 3, 32, 32), "eval"),
        ("resnet_9blocks", "resnet_9blocks", "instance", False, (2, 3, 32, 32), "eval"),
        ("resnet_9blocks_dropout", "resnet_9blocks", "instance", True, (2, 3, 32, 32), "eval"),
        ("resnet_9blocks_batch", "resnet_9blocks", "batch", False, (2, 3, 32, 32), "eval"),
        ("resnet_9blocks_batch_train", "resnet_9blocks", "batch", False, (2, 3, 32, 32), "train"),
        ("unet_128", "unet_128", "instance", False, (1, 3, 128, 128), "eval"),
        ("unet_256", "unet_256", "instance", False, (1, 3, 256, 256), "eval"),
        # pix2pix's generator: U-Net 256, batch norm, dropout (off in eval mode)
        ("unet_256_batch_dropout", "unet_256", "batch", True, (1, 3, 256, 256), "eval"),
        ("unet_128_batch_train", "unet_128", "batch", False, (2, 3, 128, 128), "train"),
    ]
    for name, net_g, norm, dropout, shape, mode in generators:
        call, theirs, cut_copy = cyclegan_g(net_g, norm, dropout)
        cases.append(
            Case(
                "cyclegan",
                name,
                "cyclegan",
                call,
                theirs,
                {"x": image(shape, 1)},
                mode=mode,
                cross=("cut", cut_copy),
            )
        )
    discriminators = [
        *[
            (f"patchgan_n{n}", "n_layers", n, "instance", (1, 3, 128, 128), "eval")
            for n in range(1, 6)
        ],
        ("patchgan_batch", "basic", 3, "batch", (2, 3, 64, 64), "eval"),
        ("patchgan_batch_train", "basic", 3, "batch", (2, 3, 64, 64), "train"),
        ("pixel", "pixel", 3, "instance", (2, 3, 16, 16), "eval"),
        ("pixel_batch", "pixel", 3, "batch", (2, 3, 16, 16), "eval"),
    ]
    for name, net_d, n_layers, norm, shape, mode in discriminators:
        call, theirs, cut_copy = cyclegan_d(net_d, n_layers, norm)
        cases.append(
            Case(
                "cyclegan",
                name,
                "cyclegan",
                call,
                theirs,
                {"x": image(shape, 2)},
                mode=mode,
                cross=("cut", cut_copy),
            )
        )
    return cases


# --- CUT ---------------------------------------------------------------------------------------


def run_cut_generator(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    outputs = {"out": net(inputs["x"])}
    features = net(inputs["x"], layers=list(NCE_LAYERS), encode_only=True)
    outputs |= {f"feature{layer}": f for layer, f in zip(NCE_LAYERS, features, strict=True)}
    return outputs


FEATURE_SHAPES = {"feature0": (2, 3, 12, 12), "feature1": (2, 16, 8, 8), "feature2": (2, 32, 4, 4)}


def patch_ids(shapes: dict[str, tuple[int, ...]]) -> list[Tensor]:
    return [
        seeded_positions(NUM_PATCHES, shape[2] * shape[3], seed=10 + i)
        for i, shape in enumerate(shapes.values())
    ]


def run_patch_sample(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    features = [inputs[name] for name in FEATURE_SHAPES]
    samples, _ = net(features, NUM_PATCHES, patch_ids(FEATURE_SHAPES))
    return {f"sample{i}": s for i, s in enumerate(samples)}


def create_patch_mlps(net: nn.Module, inputs: dict[str, Tensor]) -> None:
    """Their heads are made at the first forward pass, from the features' channel counts."""
    run_patch_sample(net, inputs)


def cut_cases() -> list[Case]:
    options = SimpleNamespace(netF_nc=NETF_NC)
    return [
        Case(
            "cut",
            "resnet_9blocks_antialias",
            "cut",
            "networks.define_G(3, 3, 8, 'resnet_9blocks', norm='instance', use_dropout=False, "
            "no_antialias=False, no_antialias_up=False); features: "
            f"netG(x, layers={NCE_LAYERS}, encode_only=True)",
            lambda m: m["cut"].define_G(
                3,
                3,
                8,
                "resnet_9blocks",
                norm="instance",
                use_dropout=False,
                no_antialias=False,
                no_antialias_up=False,
            ),
            {"x": image((1, 3, 32, 32), 3)},
            run=run_cut_generator,
            extra={"nce_layers": NCE_LAYERS},
        ),
        Case(
            "cut",
            "patchgan_antialias",
            "cut",
            "networks.define_D(3, 8, 'basic', norm='instance', no_antialias=False)",
            lambda m: m["cut"].define_D(3, 8, "basic", norm="instance", no_antialias=False),
            {"x": image((1, 3, 64, 64), 4)},
        ),
        Case(
            "cut",
            "patch_sample_mlp",
            "cut",
            f"networks.define_F(3, 'mlp_sample', opt=Namespace(netF_nc={NETF_NC})); "
            f"netF(features, {NUM_PATCHES}, patch_ids)",
            lambda m: m["cut"].define_F(3, "mlp_sample", opt=options),
            {name: normal(shape, 20 + i) for i, (name, shape) in enumerate(FEATURE_SHAPES.items())},
            run=run_patch_sample,
            prepare=create_patch_mlps,
            extra={
                "num_patches": NUM_PATCHES,
                "netF_nc": NETF_NC,
                "patch_id_seeds": [10 + i for i in range(len(FEATURE_SHAPES))],
            },
        ),
    ]


# --- UNIT / MUNIT --------------------------------------------------------------------------------

UNIT_GEN = {"dim": 8, "n_downsample": 2, "n_res": 4, "activ": "relu", "pad_type": "reflect"}
MUNIT_GEN = {**UNIT_GEN, "style_dim": 8, "mlp_dim": 16}


def dis_params(norm: str) -> dict[str, Any]:
    return {
        "dim": 8,
        "norm": norm,
        "activ": "lrelu",
        "n_layer": 4,
        "gan_type": "lsgan",
        "num_scales": 3,
        "pad_type": "reflect",
    }


def run_vae(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    # their encode() also draws the noise with .cuda(): the code is the encoder's output
    hidden = net.enc(inputs["x"])
    return {"hidden": hidden, "recon": net.decode(hidden)}


def run_adain(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    content, style = net.encode(inputs["x"])
    return {
        "content": content,
        "style": style,
        "recon": net.decode(content, style),
        "decoded_style": net.decode(content, inputs["style"]),
    }


def run_multiscale(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    return {f"scale{i}": out for i, out in enumerate(net(inputs["x"]))}


def unit_munit_cases() -> list[Case]:
    cases = [
        Case(
            "unit",
            "vae_gen",
            "unit",
            f"networks.VAEGen(3, {UNIT_GEN}); enc(x), decode(code)",
            lambda m: m["unit"].VAEGen(3, UNIT_GEN),
            {"x": image((2, 3, 32, 32), 5)},
            run=run_vae,
            cross=("munit", lambda m: m["munit"].VAEGen(3, UNIT_GEN)),
        ),
        Case(
            "munit",
            "adain_gen",
            "munit",
            f"networks.AdaINGen(3, {MUNIT_GEN}); encode(x), decode(content, style)",
            lambda m: m["munit"].AdaINGen(3, MUNIT_GEN),
            {"x": image((2, 3, 32, 32), 6), "style": normal((2, 8), 7)},
            run=run_adain,
        ),
    ]
    # instance norm needs 2x2 maps at the coarsest scale: a larger image
    for name, norm, side in (("ms_image_dis", "none", 64), ("ms_image_dis_instance", "in", 128)):
        params = dis_params(norm)
        cases.append(
            Case(
                "unit",
                name,
                "unit",
                f"networks.MsImageDis(3, {params})",
                lambda m, p=params: m["unit"].MsImageDis(3, p),
                {"x": image((2, 3, side, side), 8)},
                run=run_multiscale,
                cross=("munit", lambda m, p=params: m["munit"].MsImageDis(3, p)),
            )
        )
    return cases


# --- DCGAN (pytorch/examples) ---------------------------------------------------------------------


def dcgan_module(root: Path) -> ModuleType:
    """The ``Generator`` and ``Discriminator`` classes of their ``dcgan/main.py``, a script that
    parses its arguments and trains when imported: the two class definitions are taken from
    its syntax tree and executed alone, their sizes (module globals there) set per case."""
    source = (root / "dcgan" / "main.py").read_text()
    tree = ast.parse(source)
    classes = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name in ("Generator", "Discriminator")
    ]
    module = ModuleType("dcgan_main")
    module.__dict__.update(nn=nn, torch=torch)
    exec(compile(ast.Module(body=classes, type_ignores=[]), str(root / "dcgan/main.py"), "exec"),
         module.__dict__)  # fmt: skip
    return module


def dcgan_network(kind: str, **sizes: int) -> Build:
    def build(m: dict[str, ModuleType]) -> nn.Module:
        module = m["examples"]
        module.__dict__.update(sizes)  # nz, ngf, ndf, nc: globals of their script
        return getattr(module, kind)(1)  # ngpu

    return build


def dcgan_cases() -> list[Case]:
    sizes = {"nz": 16, "ngf": 8, "ndf": 8, "nc": 3}
    networks = {  # their class, its size arguments, its input
        "generator": ("Generator", "nz=16, ngf=8, nc=3", normal((2, 16, 1, 1), 61)),
        "discriminator": ("Discriminator", "ndf=8, nc=3", image((2, 3, 64, 64), 62)),
    }
    return [
        Case(
            "dcgan",
            name + ("" if mode == "eval" else "_train"),
            "examples",
            f"{kind}(ngpu=1) with {arguments} (dcgan/main.py)",
            dcgan_network(kind, **sizes),
            {"x": made},
            mode=mode,
        )
        for mode in ("eval", "train")
        for name, (kind, arguments, made) in networks.items()
    ]


# --- style transfer: Johnson's network (pytorch/examples), AdaIN (naoto0804/pytorch-AdaIN) ------


def run_adain_losses(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    loss_c, loss_s = net(inputs["content"], inputs["style"])
    return {"loss_c": loss_c, "loss_s": loss_s}


def adain_net(m: dict[str, ModuleType]) -> nn.Module:
    """Their train.py's ``net.Net(vgg[:31], decoder)``: the encoder to relu4_1 and the decoder."""
    net = m["adain"]
    return net.Net(nn.Sequential(*list(net.vgg.children())[:31]), net.decoder)


def style_cases() -> list[Case]:
    return [
        Case(
            "style",
            "transformer_net",
            "examples",
            "TransformerNet() (fast_neural_style/neural_style/transformer_net.py)",
            lambda m: m["fast_neural_style"].TransformerNet(),
            {"x": image((1, 3, 32, 32), 63)},
        ),
        Case(
            "style",
            "adain_decoder",
            "adain",
            "net.decoder (net.py)",
            lambda m: m["adain"].decoder,
            {"x": normal((1, 512, 4, 4), 64)},
        ),
        Case(
            "style",
            "adain_losses",
            "adain",
            "net.Net(nn.Sequential(*list(net.vgg.children())[:31]), net.decoder)(content, style) "
            "(net.py, as train.py builds it)",
            adain_net,
            {"content": image((2, 3, 32, 32), 65), "style": image((2, 3, 32, 32), 66)},
            run=run_adain_losses,
        ),
    ]


# --- Recycle-GAN's temporal predictors ---------------------------------------------------------


def run_stacked_predictor(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    """Their ``netP(torch.cat((x0, x1), 1))`` (``--which_model_netP unet_256``)."""
    return {"out": net(torch.cat([inputs["x0"], inputs["x1"]], 1))}


def run_two_view_predictor(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    """Their ``netP(x0, x1)`` (``--which_model_netP prediction``)."""
    return {"out": net(inputs["x0"], inputs["x1"])}


def recycle_cases() -> list[Case]:
    two_frames = {"x0": image((1, 3, 64, 64), 71), "x1": image((1, 3, 64, 64), 72)}
    return [
        Case(
            "recycle",
            "predictor_unet_256",
            "recycle",
            "networks.define_G(6, 3, 4, 'unet_256', 'instance', False, 'normal')",
            lambda m: m["recycle"].define_G(6, 3, 4, "unet_256", "instance", False, "normal"),
            {"x0": image((1, 3, 256, 256), 71), "x1": image((1, 3, 256, 256), 72)},
            run=run_stacked_predictor,
        ),
        Case(
            "recycle",
            "predictor_prediction",
            "recycle",
            "networks.define_G(3, 3, 2, 'prediction', 'instance', False, 'normal')",
            lambda m: m["recycle"].define_G(3, 3, 2, "prediction", "instance", False, "normal"),
            two_frames,
            run=run_two_view_predictor,
        ),
    ]


def all_cases() -> list[Case]:
    return (
        cyclegan_cases()
        + cut_cases()
        + unit_munit_cases()
        + dcgan_cases()
        + style_cases()
        + recycle_cases()
    )


# --- running -----------------------------------------------------------------------------------


def make_inputs(case: Case) -> dict[str, Tensor]:
    made = {}
    for name, spec in case.inputs.items():
        make = seeded_normal if spec["kind"] == "normal" else seeded_input
        made[name] = make(spec["shape"], spec["seed"])
    return made


def evaluate(net: nn.Module, case: Case) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Seed ``net``'s weights, run it in the case's mode; (outputs, its state dict before)."""
    if case.prepare is not None:
        case.prepare(net, make_inputs(case))
    state = net.state_dict()
    shapes = {key: tuple(value.shape) for key, value in state.items()}
    net.load_state_dict({**state, **seeded_weights(shapes, WEIGHT_SEED)}, strict=True)
    state = {key: value.clone() for key, value in net.state_dict().items()}
    net.train(case.mode == "train")
    with torch.no_grad():
        outputs = case.run(net, make_inputs(case))
    return {k: v.clone() for k, v in outputs.items()}, state


def produce(case: Case, modules: dict[str, ModuleType], commits: dict[str, str]) -> Path:
    net = case.build(modules)
    outputs, state = evaluate(net, case)
    metadata: dict[str, Any] = {
        "case": case.name,
        "repository": REPOSITORIES[case.source],
        "commit": commits[case.source],
        "call": case.call,
        "mode": case.mode,
        "weight_seed": WEIGHT_SEED,
        "inputs": case.inputs,
        "keys": [[key, list(value.shape)] for key, value in state.items()],
        "torch": torch.__version__,
        **case.extra,
    }
    if case.cross is not None:
        source, build = case.cross
        other, other_state = evaluate(build(modules), case)
        assert list(other_state) == list(state), f"{case.name}: {source}'s copy has other keys"
        for name, value in outputs.items():
            assert torch.equal(other[name], value), f"{case.name}: {source}'s copy differs: {name}"
        metadata["same_outputs_in"] = f"{REPOSITORIES[source]}@{commits[source]}"
    fixed = {key: value for key, value in state.items() if is_fixed(key)}
    path = GOLDEN_DIR / case.group / f"{case.name}.safetensors"
    save_fixture(path, metadata, outputs, fixed)
    return path


# --- the authors' CycleGAN training step ---------------------------------------------------------

TRAIN_STEPS = 4
#: Their network names; the seeds of their weights.
NET_SEEDS = {"G_A": 11, "G_B": 12, "D_A": 13, "D_B": 14}
#: Their loss names (loss_<name> attributes after optimize_parameters).
LOSS_NAMES = ["G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B"]
CHECKSUM_SEED = 99
#: The options of ``train.py --model cycle_gan --netG resnet_6blocks --ngf 8 --ndf 8
#: --batch_size 1 --gan_mode lsgan --pool_size 50 --lambda_identity 0.5`` that the model reads
#: (the others at their defaults: instance norm, basic PatchGAN, lr 2e-4, beta1 0.5, normal init).
TRAIN_OPTIONS: dict[str, Any] = {
    "gpu_ids": [],
    "isTrain": True,
    "checkpoints_dir": "./checkpoints",
    "name": "golden",
    "preprocess": "resize_and_crop",
    "direction": "AtoB",
    "input_nc": 3,
    "output_nc": 3,
    "ngf": 8,
    "ndf": 8,
    "netG": "resnet_6blocks",
    "netD": "basic",
    "n_layers_D": 3,
    "norm": "instance",
    "no_dropout": True,
    "init_type": "normal",
    "init_gain": 0.02,
    "gan_mode": "lsgan",
    "pool_size": 50,
    "lr": 0.0002,
    "beta1": 0.5,
    "lambda_A": 10.0,
    "lambda_B": 10.0,
    "lambda_identity": 0.5,
}
#: CUT's copy of the model reads its norms, anti-aliasing and apex switch from these.
CUT_OPTIONS = {
    "normG": "instance",
    "normD": "instance",
    "no_antialias": True,
    "no_antialias_up": True,
    "amp": False,
}


def training_images(step: int) -> dict[str, Tensor]:
    return {
        "A": seeded_input((1, 3, 32, 32), 100 + step),
        "B": seeded_input((1, 3, 32, 32), 200 + step),
        "A_paths": [f"A/{step}.png"],
        "B_paths": [f"B/{step}.png"],
    }


def train_authors_cyclegan(model_class: type, options: dict[str, Any]) -> dict[str, Any]:
    """Their model with seeded weights, ``TRAIN_STEPS`` calls of ``optimize_parameters``:
    the losses of every step, the keys and the checksums of each network's weights."""
    model = model_class(SimpleNamespace(**options))
    initial = {}
    for name, seed in NET_SEEDS.items():
        net = getattr(model, f"net{name}")
        state = net.state_dict()
        shapes = {key: tuple(value.shape) for key, value in state.items()}
        net.load_state_dict({**state, **seeded_weights(shapes, seed)}, strict=True)
        initial[name] = {k: v.clone() for k, v in net.state_dict().items()}
    losses = []
    for step in range(TRAIN_STEPS):
        model.set_input(training_images(step))
        model.optimize_parameters()
        losses.append(
            [float(torch.as_tensor(getattr(model, f"loss_{name}")).detach()) for name in LOSS_NAMES]
        )
    finals = {name: getattr(model, f"net{name}").state_dict() for name in NET_SEEDS}
    return {
        "losses": torch.tensor(losses, dtype=torch.float64),
        "keys": {
            name: [[k, list(v.shape)] for k, v in initial[name].items()] for name in NET_SEEDS
        },
        "checksums": {
            name: weight_checksums(initial[name], finals[name], CHECKSUM_SEED) for name in NET_SEEDS
        },
    }


def produce_training(roots: dict[str, Path], commits: dict[str, str]) -> Path:
    theirs = import_from(roots["cyclegan"], "models.cycle_gan_model").CycleGANModel
    result = train_authors_cyclegan(theirs, TRAIN_OPTIONS)
    cut = import_from(roots["cut"], "models.cycle_gan_model").CycleGANModel
    again = train_authors_cyclegan(cut, {**TRAIN_OPTIONS, **CUT_OPTIONS})
    assert again["keys"] == result["keys"], "CUT's copy of CycleGANModel has other keys"
    assert torch.equal(again["losses"], result["losses"]), "CUT's copy gives other losses"
    for name, checksum in result["checksums"].items():
        assert torch.equal(again["checksums"][name], checksum), f"CUT's copy: other {name}"
    metadata = {
        "case": "cyclegan_steps",
        "repository": REPOSITORIES["cyclegan"],
        "commit": commits["cyclegan"],
        "call": "models.cycle_gan_model.CycleGANModel(opt); per step: set_input({'A', 'B'}), "
        "optimize_parameters(); loss_<name> read after each step",
        "mode": "train",
        "options": TRAIN_OPTIONS,
        "steps": TRAIN_STEPS,
        "net_seeds": NET_SEEDS,
        "inputs": {
            f"{domain}{step}": {"shape": [1, 3, 32, 32], "seed": base + step, "kind": "image"}
            for step in range(TRAIN_STEPS)
            for domain, base in (("A", 100), ("B", 200))
        },
        "loss_names": LOSS_NAMES,
        "checksum_seed": CHECKSUM_SEED,
        "keys": result["keys"],
        "torch": torch.__version__,
        "same_outputs_in": f"{REPOSITORIES['cut']}@{commits['cut']}",
    }
    tensors = {"losses": result["losses"]}
    tensors |= {f"checksum.{name}": value for name, value in result["checksums"].items()}
    path = GOLDEN_DIR / "training" / "cyclegan_steps.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"golden": json.dumps(metadata)})
    return path


README = GOLDEN_DIR / "README.md"
TABLE_START, TABLE_END = "<!-- fixtures: written by produce.py -->", "<!-- /fixtures -->"


def fixture_table() -> str:
    """The README's table of fixtures, from the fixtures' own headers."""
    rows = [
        "| fixture | bytes | repository @ commit | the authors' call | inputs (shape, seed) | mode "
        "| same outputs in |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in fixture_paths():
        meta = Fixture(path).meta
        inputs = ", ".join(
            f"{name} {'x'.join(map(str, spec['shape']))} ({spec['kind']}, {spec['seed']})"
            for name, spec in meta["inputs"].items()
        )
        call = meta["call"].replace("|", "\\|")
        rows.append(
            f"| `{path.relative_to(GOLDEN_DIR)}` | {path.stat().st_size} "
            f"| {meta['repository']} @ `{meta['commit'][:12]}` | `{call}` | {inputs} "
            f"| {meta['mode']} | {meta.get('same_outputs_in', '-')} |"
        )
    return "\n".join(rows)


def write_readme_table() -> None:
    text = README.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    README.write_text(text[:start] + "\n" + fixture_table() + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for source, repository in REPOSITORIES.items():
        parser.add_argument(
            f"--{source}", type=Path, required=True, help=f"checkout of {repository}"
        )
    parser.add_argument("--only", nargs="*", help="case names to produce (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    roots = {source: getattr(args, source).resolve() for source in REPOSITORIES}
    commits = {source: commit_of(root) for source, root in roots.items()}
    modules = {
        "cyclegan": import_from(roots["cyclegan"], "models.networks"),
        "cut": import_from(roots["cut"], "models.networks"),
        "unit": import_from(roots["unit"], "networks"),
        "munit": import_from(roots["munit"], "networks"),
        "examples": dcgan_module(roots["examples"]),
        "fast_neural_style": import_from(
            roots["examples"] / "fast_neural_style" / "neural_style", "transformer_net"
        ),
        "adain": import_from(roots["adain"], "net"),
        "recycle": import_from(roots["recycle"], "models.networks"),
    }
    for case in all_cases():
        if args.only and case.name not in args.only:
            continue
        path = produce(case, modules, commits)
        print(f"{path.relative_to(GOLDEN_DIR)}: {path.stat().st_size} bytes")
    if not args.only or "cyclegan_steps" in args.only:
        path = produce_training(roots, commits)
        print(f"{path.relative_to(GOLDEN_DIR)}: {path.stat().st_size} bytes")
    write_readme_table()


if __name__ == "__main__":
    main()

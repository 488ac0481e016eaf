"""Produce the StarGAN v2 golden fixtures (``stargan_v2/``) by running the AUTHORS' networks.

    python tests/golden/produce_stargan_v2.py --stargan_v2 DIR

DIR is a checkout of clovaai/stargan-v2 (README.md says at which commit). Their ``core/model.py``
imports ``munch`` and their face-landmark network at the top, which the networks themselves do
not use: its network classes are taken from its syntax tree and executed alone (as
``produce.py`` does with DCGAN's script). Everything else is ``produce.py``'s: seeded weights by
key, seeded inputs, the fixture format, the README table.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import math
import sys
from collections import namedtuple
from functools import partial
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import produce
from produce import GOLDEN_DIR, Case, commit_of, image, normal, write_readme_table

from golden import (
    landmark_heatmaps,
    seeded_input,
    seeded_normal,
    seeded_weights,
    weight_checksums,
)

SOURCE = "stargan_v2"
produce.REPOSITORIES[SOURCE] = "clovaai/stargan-v2"
CLASSES = (
    "ResBlk",
    "AdaIN",
    "AdainResBlk",
    "HighPass",
    "Generator",
    "MappingNetwork",
    "StyleEncoder",
    "Discriminator",
)
#: What ``core/wing.py`` contributes: their face-landmark network and its mask functions (the rest
#: of the file aligns photos with OpenCV and scikit-image, which the masks do not use).
WING_NAMES = (
    "AddCoordsTh",
    "CoordConvTh",
    "ConvBlock",
    "HourGlass",
    "FAN",
    "normalize",
    "truncate",
    "resize",
    "shift",
    "preprocess",
    "IDXPAIR",
    "index_map",
    "OPPAIR",
)
#: The settings of every case: 64-pixel images (the authors' rule gives the first conv
#: 2**14 // 64 = 256 channels), narrow blocks, 16-dim styles, 8-dim latents, three domains.
IMG, STYLE, LATENT, DOMAINS, MAX_DIM = 64, 16, 8, 3, 32


class Munch(dict):
    """The attribute access of ``munch.Munch`` that their ``core/wing.py`` uses."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.ClassDef | ast.FunctionDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    return set()


def model_module(root: Path) -> ModuleType:
    """Their network classes of ``core/model.py`` and the face-landmark network and mask
    functions of ``core/wing.py``, executed alone in one module."""
    module = ModuleType("stargan_v2_model")
    module.__dict__.update(
        math=math,
        np=np,
        torch=torch,
        nn=nn,
        F=F,
        Munch=Munch,
        namedtuple=namedtuple,
        deepcopy=copy.deepcopy,
        partial=partial,
    )
    for name, wanted in (("model.py", CLASSES), ("wing.py", WING_NAMES)):
        path = root / "core" / name
        tree = ast.parse(path.read_text())
        body = [n for n in tree.body if defined_names(n) & set(wanted)]
        exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), module.__dict__)
    return module


def domains(n: int) -> Tensor:
    """The domain of each of ``n`` images: 0, 1, 2, 0, ..."""
    return torch.arange(n) % DOMAINS


def run_generator(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    masks = (inputs["mask0"], inputs["mask1"]) if "mask0" in inputs else None
    return {"out": net(inputs["x"], inputs["s"], masks=masks)}


def run_conditional(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    x = inputs["x"]
    return {"out": net(x, domains(len(x)))}


def run_fan(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    """Their ``get_heatmap(x, b_preprocess=False)``: the landmark heatmaps of the images."""
    return {"heatmaps": net.get_heatmap(inputs["x"], b_preprocess=False)}


class BlobLandmarks(nn.Module):
    """Their FAN's output format (each stage's heatmaps, each stage's boundary channels) around
    :func:`golden.landmark_heatmaps` at ``points``, whatever the image: the masks of a random
    network are all face, those of these heatmaps are not."""

    def __init__(self, points: Tensor) -> None:
        super().__init__()
        self.points = points

    def forward(self, x: Tensor) -> tuple[list[Tensor], list[None]]:
        return [landmark_heatmaps(self.points)], [None]


def face_masks_case(module: ModuleType) -> nn.Module:
    """Their ``FAN.get_heatmap`` (which upsamples the heatmaps and runs ``preprocess``) as the
    network of a case, without weights."""
    net = nn.Module()
    net.get_heatmap = module.FAN.get_heatmap
    return net


def run_face_masks(net: nn.Module, inputs: dict[str, Tensor]) -> dict[str, Tensor]:
    face, inner = net.get_heatmap(BlobLandmarks(inputs["points"]), inputs["x"])
    return {"face": face, "inner": inner}


def cases() -> list[Case]:
    x, s = image((3, 3, IMG, IMG), 71), normal((3, STYLE), 72)
    masks = {"mask0": image((3, 1, IMG, IMG), 73), "mask1": image((3, 1, IMG, IMG), 74)}
    return [
        Case(
            "stargan_v2",
            "generator",
            SOURCE,
            f"Generator(img_size={IMG}, style_dim={STYLE}, max_conv_dim={MAX_DIM}, w_hpf=0)",
            lambda m: m[SOURCE].Generator(IMG, STYLE, MAX_DIM, w_hpf=0),
            {"x": x, "s": s},
            run=run_generator,
        ),
        Case(
            "stargan_v2",
            "generator_hpf",
            SOURCE,
            f"Generator(img_size={IMG}, style_dim={STYLE}, max_conv_dim={MAX_DIM}, w_hpf=1) "
            "with masks",
            lambda m: m[SOURCE].Generator(IMG, STYLE, MAX_DIM, w_hpf=1),
            {"x": x, "s": s, **masks},
            run=run_generator,
        ),
        Case(
            "stargan_v2",
            "mapping_network",
            SOURCE,
            f"MappingNetwork(latent_dim={LATENT}, style_dim={STYLE}, num_domains={DOMAINS})",
            lambda m: m[SOURCE].MappingNetwork(LATENT, STYLE, DOMAINS),
            {"x": normal((6, LATENT), 75)},
            run=run_conditional,
        ),
        Case(
            "stargan_v2",
            "style_encoder",
            SOURCE,
            f"StyleEncoder(img_size={IMG}, style_dim={STYLE}, num_domains={DOMAINS}, "
            f"max_conv_dim={MAX_DIM})",
            lambda m: m[SOURCE].StyleEncoder(IMG, STYLE, DOMAINS, MAX_DIM),
            {"x": x},
            run=run_conditional,
        ),
        Case(
            "stargan_v2",
            "discriminator",
            SOURCE,
            f"Discriminator(img_size={IMG}, num_domains={DOMAINS}, max_conv_dim={MAX_DIM})",
            lambda m: m[SOURCE].Discriminator(IMG, DOMAINS, MAX_DIM),
            {"x": x},
            run=run_conditional,
        ),
        Case(
            "stargan_v2",
            "fan",
            SOURCE,
            "FAN() (core/wing.py), get_heatmap(x, b_preprocess=False)",
            lambda m: m[SOURCE].FAN(),
            {"x": image((2, 3, IMG, IMG), 76)},
            run=run_fan,
        ),
        Case(
            "stargan_v2",
            "face_masks",
            SOURCE,
            "FAN.get_heatmap(x) (core/wing.py) on a network giving Gaussian blobs at the points",
            lambda m: face_masks_case(m[SOURCE]),
            {"x": image((2, 3, IMG, IMG), 76), "points": image((2, 98, 2), 77)},
            run=run_face_masks,
        ),
    ]


# --- their training step (core/solver.py) ------------------------------------------------------

SOLVER_FUNCTIONS = ("compute_d_loss", "compute_g_loss", "moving_average", "adv_loss", "r1_reg")
TRAIN_STEPS = 2
#: Tiny networks (ours, whose outputs equal theirs: the cases above), their seeds.
TRAIN_NETWORKS = {
    "generator": (31, {"img_size": 16, "style_dim": 4, "max_conv_dim": 8, "w_hpf": 0, "dim_in": 4}),
    "mapping_network": (32, {"latent_dim": 3, "style_dim": 4, "num_domains": 3, "hidden_dim": 8}),
    "style_encoder": (
        33,
        {"img_size": 16, "style_dim": 4, "num_domains": 3, "max_conv_dim": 8, "dim_in": 4},
    ),
    "discriminator": (34, {"img_size": 16, "num_domains": 3, "max_conv_dim": 8, "dim_in": 4}),
}
#: main.py's defaults, with ds_iter 2: the diversity weight falls to 0 within the two steps.
TRAIN_ARGS = {
    "lambda_reg": 1.0,
    "lambda_sty": 1.0,
    "lambda_ds": 1.0,
    "lambda_cyc": 1.0,
    "ds_iter": 2,
    "w_hpf": 0,
    "lr": 1e-4,
    "f_lr": 1e-6,
    "beta1": 0.0,
    "beta2": 0.99,
    "weight_decay": 1e-4,
}
#: Each step's loss terms, in this order: their prefix and key.
TRAIN_LOSSES = [
    f"{prefix}/{key}"
    for prefix, keys in (
        ("D/latent", ("real", "fake", "reg")),
        ("D/ref", ("real", "fake", "reg")),
        ("G/latent", ("adv", "sty", "ds", "cyc")),
        ("G/ref", ("adv", "sty", "ds", "cyc")),
    )
    for key in keys
]
TRAIN_CHECKSUM_SEED = 98


def training_batch(step: int) -> dict[str, Tensor]:
    """The inputs of their ``InputFetcher`` for one step: seeded images, latents and domains."""
    return {
        "x_real": seeded_input((2, 3, 16, 16), 300 + step),
        "x_ref": seeded_input((2, 3, 16, 16), 400 + step),
        "x_ref2": seeded_input((2, 3, 16, 16), 500 + step),
        "z_trg": seeded_normal((2, 3), 600 + step),
        "z_trg2": seeded_normal((2, 3), 700 + step),
        "y_org": torch.tensor([0, 2]) if step % 2 == 0 else torch.tensor([1, 1]),
        "y_trg": torch.tensor([1, 0]) if step % 2 == 0 else torch.tensor([2, 1]),
    }


def solver_module(root: Path) -> ModuleType:
    path = root / "core" / "solver.py"
    tree = ast.parse(path.read_text())
    functions = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in SOLVER_FUNCTIONS
    ]
    module = ModuleType("stargan_v2_solver")
    module.__dict__.update(torch=torch, F=F, Munch=dict)
    exec(compile(ast.Module(body=functions, type_ignores=[]), str(path), "exec"), module.__dict__)
    return module


def train_authors_steps(solver: ModuleType) -> dict[str, Any]:
    """Their ``Solver.train`` loop body (it is one method with their data loaders, checkpoints and
    logging, so its statements are repeated here in their order) around their own loss, EMA and
    R1 functions, on tiny networks with seeded weights, for ``TRAIN_STEPS`` steps."""
    from unpaired.nn import stargan_v2 as networks

    classes = {
        "generator": networks.StarGANv2Generator,
        "mapping_network": networks.MappingNetwork,
        "style_encoder": networks.StyleEncoder,
        "discriminator": networks.StarGANv2Discriminator,
    }
    nets, initial = {}, {}
    for name, (seed, arguments) in TRAIN_NETWORKS.items():
        net = classes[name](**arguments)
        state = net.state_dict()
        net.load_state_dict(
            {**state, **seeded_weights({k: v.shape for k, v in state.items()}, seed)}
        )
        nets[name] = net
        initial[name] = {k: v.clone() for k, v in net.state_dict().items()}
    nets = SimpleNamespace(**nets)
    ema = {
        name: copy.deepcopy(getattr(nets, name))
        for name in TRAIN_NETWORKS
        if name != "discriminator"
    }
    args = SimpleNamespace(**TRAIN_ARGS)
    optims = {
        name: torch.optim.Adam(
            getattr(nets, name).parameters(),
            lr=args.f_lr if name == "mapping_network" else args.lr,
            betas=[args.beta1, args.beta2],
            weight_decay=args.weight_decay,
        )
        for name in TRAIN_NETWORKS
    }

    def reset_grad() -> None:
        for optim in optims.values():
            optim.zero_grad()

    initial_lambda_ds = args.lambda_ds
    losses = []
    for step in range(TRAIN_STEPS):
        b = training_batch(step)
        x_real, y_org, y_trg = b["x_real"], b["y_org"], b["y_trg"]
        d_loss, d_latent = solver.compute_d_loss(nets, args, x_real, y_org, y_trg, z_trg=b["z_trg"])
        reset_grad()
        d_loss.backward()
        optims["discriminator"].step()
        d_loss, d_ref = solver.compute_d_loss(nets, args, x_real, y_org, y_trg, x_ref=b["x_ref"])
        reset_grad()
        d_loss.backward()
        optims["discriminator"].step()
        zs = [b["z_trg"], b["z_trg2"]]
        g_loss, g_latent = solver.compute_g_loss(nets, args, x_real, y_org, y_trg, z_trgs=zs)
        reset_grad()
        g_loss.backward()
        optims["generator"].step()
        optims["mapping_network"].step()
        optims["style_encoder"].step()
        refs = [b["x_ref"], b["x_ref2"]]
        g_loss, g_ref = solver.compute_g_loss(nets, args, x_real, y_org, y_trg, x_refs=refs)
        reset_grad()
        g_loss.backward()
        optims["generator"].step()
        for name, average in ema.items():
            solver.moving_average(getattr(nets, name), average, beta=0.999)
        if args.lambda_ds > 0:
            args.lambda_ds -= initial_lambda_ds / args.ds_iter
        terms = {}
        for prefix, values in (
            ("D/latent", d_latent),
            ("D/ref", d_ref),
            ("G/latent", g_latent),
            ("G/ref", g_ref),
        ):
            terms |= {f"{prefix}/{key}": value for key, value in values.items()}
        losses.append([terms[name] for name in TRAIN_LOSSES])
    checksums = {
        name: weight_checksums(initial[name], getattr(nets, name).state_dict(), TRAIN_CHECKSUM_SEED)
        for name in TRAIN_NETWORKS
    }
    checksums |= {
        f"ema.{name}": weight_checksums(initial[name], average.state_dict(), TRAIN_CHECKSUM_SEED)
        for name, average in ema.items()
    }
    return {"losses": torch.tensor(losses, dtype=torch.float64), "checksums": checksums}


def produce_training(root: Path, commit: str) -> Path:
    result = train_authors_steps(solver_module(root))
    metadata = {
        "case": "stargan_v2_steps",
        "repository": produce.REPOSITORIES[SOURCE],
        "commit": commit,
        "call": "core/solver.py: compute_d_loss (latent, reference), compute_g_loss (latent, "
        "reference), moving_average(beta=0.999), the lambda_ds decay, in Solver.train's order",
        "mode": "train",
        "networks": {name: {"seed": s, **a} for name, (s, a) in TRAIN_NETWORKS.items()},
        "args": TRAIN_ARGS,
        "steps": TRAIN_STEPS,
        "loss_names": TRAIN_LOSSES,
        "checksum_seed": TRAIN_CHECKSUM_SEED,
        "torch": torch.__version__,
    }
    tensors = {"losses": result["losses"]}
    tensors |= {f"checksum.{name}": value for name, value in result["checksums"].items()}
    path = GOLDEN_DIR / "training" / "stargan_v2_steps.safetensors"
    save_file(tensors, str(path), metadata={"golden": json.dumps(metadata)})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        f"--{SOURCE}", type=Path, required=True, help="checkout of clovaai/stargan-v2"
    )
    root = parser.parse_args().stargan_v2.resolve()
    torch.set_num_threads(1)
    modules, commits = {SOURCE: model_module(root)}, {SOURCE: commit_of(root)}
    for case in cases():
        path = produce.produce(case, modules, commits)
        print(f"{path.relative_to(GOLDEN_DIR)}: {path.stat().st_size} bytes")
    path = produce_training(root, commits[SOURCE])
    print(f"{path.relative_to(GOLDEN_DIR)}: {path.stat().st_size} bytes")
    write_readme_table()


if __name__ == "__main__":
    main()

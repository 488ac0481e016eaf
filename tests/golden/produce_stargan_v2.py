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
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import produce
from produce import GOLDEN_DIR, Case, commit_of, image, normal, write_readme_table

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
#: The settings of every case: 64-pixel images (the authors' rule gives the first conv
#: 2**14 // 64 = 256 channels), narrow blocks, 16-dim styles, 8-dim latents, three domains.
IMG, STYLE, LATENT, DOMAINS, MAX_DIM = 64, 16, 8, 3, 32


def model_module(root: Path) -> ModuleType:
    path = root / "core" / "model.py"
    tree = ast.parse(path.read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in CLASSES]
    module = ModuleType("stargan_v2_model")
    module.__dict__.update(math=math, np=np, torch=torch, nn=nn, F=F)
    exec(compile(ast.Module(body=classes, type_ignores=[]), str(path), "exec"), module.__dict__)
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
    ]


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
    write_readme_table()


if __name__ == "__main__":
    main()

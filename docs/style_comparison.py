"""The README's comparison of Gatys, Johnson, AdaIN and CycleGAN on the built-in synthetic set.

    python docs/style_comparison.py --data <synthetic root> --johnson <ckpt> --adain <ckpt> \
        --cyclegan <ckpt> [--images 8] [--gatys-steps 100]

For the first ``--images`` test images of domain A and one style image (the synthetic set's
trainB/0000.png, the image Johnson's preset trains on), it prints a Markdown table: the style
statistics distance of each method's output (AdaIN's mean/std style loss, over relu1_1 ...
relu4_1 of a fixed judge network: a VGG-19 of the AdaIN authors' layout with PyTorch's random
initialisation under seed 0, since no pretrained weights can be read here), the L1 error against
the true translation (testA_true, in [-1, 1]), and the time per image on this machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch

from unpaired.inference import load_translator
from unpaired.inference.style import style_translator
from unpaired.losses.style import mean_std_style_loss
from unpaired.metrics.ground_truth import per_image_errors
from unpaired.models.adain import STYLE_LAYERS
from unpaired.nn.vgg import VGGFeatures, select
from unpaired.stylization.gatys import GatysLoss, GatysSettings, optimise_image
from unpaired.stylization.images import from_unit, read_image, to_unit

Method = Callable[[torch.Tensor], torch.Tensor]  # [-1, 1] content -> [-1, 1] result


def gatys(style01: torch.Tensor, steps: int) -> Method:
    torch.manual_seed(0)
    settings = GatysSettings(
        "vgg19",
        ["conv4_2"],
        ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"],
        1,
        1e3,
        "paper",
    )
    network = VGGFeatures("vgg19", [*settings.content_layers, *settings.style_layers], "random")

    def run(images: torch.Tensor) -> torch.Tensor:
        results = []
        for image in to_unit(images).split(1):
            loss = GatysLoss(network, settings, image, [style01], [1.0])
            results.append(optimise_image(loss, image, steps)[0])
        return from_unit(torch.cat(results))

    return run


def measure(method: Method, images: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The outputs and the seconds per image (one image at a time, after one warm-up)."""
    method(images[:1])
    start = time.perf_counter()
    outputs = torch.cat([method(image) for image in images.split(1)])
    return outputs, (time.perf_counter() - start) / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    for name in ("johnson", "adain", "cyclegan"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--gatys-steps", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = sorted(p.name for p in (args.data / "testA").iterdir())[: args.images]
    content = torch.cat([from_unit(read_image(args.data / "testA" / n)) for n in names])
    truth = torch.cat([from_unit(read_image(args.data / "testA_true" / n)) for n in names])
    style_path = args.data / "trainB" / "0000.png"
    style01 = read_image(style_path)
    torch.manual_seed(0)
    judge = VGGFeatures("vgg19_normalised", STYLE_LAYERS, "random")
    style_features = select(judge(style01), STYLE_LAYERS)
    methods: dict[str, Method] = {
        "content image (no transfer)": lambda x: x,
        f"Gatys (paper preset, L-BFGS, {args.gatys_steps} steps)": gatys(style01, args.gatys_steps),
        "Johnson (johnson/synthetic)": load_translator(args.johnson, "AtoB", "cpu"),
        "AdaIN (adain/synthetic)": style_translator(args.adain, str(style_path)),
        "CycleGAN (cyclegan/synthetic)": load_translator(args.cyclegan, "AtoB", "cpu"),
    }
    print("| method | style statistics distance | L1 to the true translation | s / image |")
    print("| --- | --- | --- | --- |")
    for name, method in methods.items():
        with torch.no_grad() if not name.startswith("Gatys") else torch.enable_grad():
            outputs, seconds = measure(method, content)
        with torch.no_grad():
            distances = [
                mean_std_style_loss(select(judge(to_unit(o[None])), STYLE_LAYERS), style_features)
                for o in outputs.clamp(-1, 1)
            ]
        l1 = per_image_errors(outputs.clamp(-1, 1), truth)["L1"].mean().item()
        distance = torch.stack(distances).mean().item()
        print(f"| {name} | {distance:.4f} | {l1:.4f} | {seconds:.3f} |")


if __name__ == "__main__":
    main()

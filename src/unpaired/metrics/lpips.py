"""LPIPS as StarGAN v2 measures diversity (the authors' ``metrics/lpips.py``), from files only.

The distance is that of Zhang et al. (2018) with AlexNet: the features after each of AlexNet's
five ReLUs, unit-normalised over channels, their squared difference weighted per channel by a
1x1 convolution, averaged over space, and summed over the layers. StarGAN v2 feeds [-1, 1]
images with its own ImageNet shift and scale (``SHIFT``, ``SCALE``) and keeps its linear
weights in ``lpips_weights.ckpt``; the ``lpips`` package would download both networks at run
time and shifts differently, so the few lines live here. Neither file is ever downloaded: each
comes from a path in ``metrics.*`` or torch hub's checkpoint cache, else the error says which
file to get and where to put it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models import AlexNet_Weights, alexnet

from unpaired.errors import ConfigError
from unpaired.utils.checkpoint import load_checkpoint
from unpaired.utils.pretrained import pretrained_file

ALEXNET_URL = AlexNet_Weights.IMAGENET1K_V1.url
ALEXNET_FILE = ALEXNET_URL.rsplit("/", 1)[-1]
#: The authors keep their linear weights in their repository, at this path.
LPIPS_FILE = "lpips_weights.ckpt"
LPIPS_SOURCE = "https://github.com/clovaai/stargan-v2/blob/master/metrics/lpips_weights.ckpt"
#: The authors' ImageNet normalisation for images in [-1, 1].
SHIFT = (-0.03, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
#: The smallest image side AlexNet's features reach their last ReLU at.
MIN_SIZE = 31


def unit_normalize(features: Tensor, eps: float = 1e-10) -> Tensor:
    """Each position's feature vector divided by its length (over the channels, dim 1)."""
    return features * torch.rsqrt(features.pow(2).sum(dim=1, keepdim=True) + eps)


class ChannelWeights(nn.Module):
    """The authors' ``Conv1x1``: dropout (inactive in evaluation), then one weight per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(channels, 1, 1, 1, 0, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


def _load(module: nn.Module, state: dict[str, Tensor], path: Path) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        raise ConfigError(f"{path} does not hold the weights LPIPS expects: {error}") from error


class LPIPS(nn.Module):
    """Per-image LPIPS distance between two batches of [-1, 1] RGB images, ``(N,)``."""

    def __init__(
        self, alexnet_weights: str | Path | None = None, lpips_weights: str | Path | None = None
    ) -> None:
        super().__init__()
        alexnet_path = pretrained_file(
            alexnet_weights, ALEXNET_FILE, ALEXNET_URL, "LPIPS's AlexNet", "metrics.alexnet_weights"
        )
        lpips_path = pretrained_file(
            lpips_weights,
            LPIPS_FILE,
            LPIPS_SOURCE,
            "LPIPS's linear weights",
            "metrics.lpips_weights",
        )
        network = alexnet()
        _load(network, load_checkpoint(alexnet_path), alexnet_path)
        self.layers = network.features
        channels = [layer.out_channels for layer in self.layers if isinstance(layer, nn.Conv2d)]
        # the authors' module names, so that their file loads as it is
        self.lpips_weights = nn.ModuleList(ChannelWeights(count) for count in channels)
        linear = load_checkpoint(lpips_path)
        _load(
            self.lpips_weights,
            {key.removeprefix("lpips_weights."): value for key, value in linear.items()},
            lpips_path,
        )
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        self.files = {"alexnet_weights": str(alexnet_path), "lpips_weights": str(lpips_path)}
        self.eval()

    def features(self, images: Tensor) -> list[Tensor]:
        """The output of each of AlexNet's ReLUs (the last pooling, which none feeds, is
        skipped)."""
        if min(images.shape[-2:]) < MIN_SIZE:
            raise ConfigError(
                f"LPIPS needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels (AlexNet's "
                f"features); got {tuple(images.shape[-2:])}"
            )
        x = (images - self.shift) / self.scale
        found = []
        for layer in self.layers:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                found.append(x)
                if len(found) == len(self.lpips_weights):
                    break
        return found

    @torch.no_grad()
    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        total = torch.zeros(len(x), device=x.device)
        for fx, fy, weigh in zip(
            self.features(x), self.features(y), self.lpips_weights, strict=True
        ):
            difference = (unit_normalize(fx) - unit_normalize(fy)).pow(2)
            total = total + weigh(difference).mean(dim=(1, 2, 3))
        return total


def mean_pairwise(lpips: LPIPS, outputs: Tensor) -> Tensor:
    """The diversity of ``outputs`` ``(N, K, C, H, W)``, K translations of each of N images:
    the mean LPIPS over the K (K - 1) / 2 pairs of each image's translations, ``(N,)``."""
    count = outputs.shape[1]
    if count < 2:
        raise ConfigError(f"LPIPS diversity needs at least 2 outputs per image, got {count}")
    pairs = [
        lpips(outputs[:, i], outputs[:, j]) for i in range(count - 1) for j in range(i + 1, count)
    ]
    return torch.stack(pairs, dim=1).mean(dim=1)

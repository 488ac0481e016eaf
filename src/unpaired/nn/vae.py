"""The convolutional encoder and decoder of a VAE (Kingma & Welling, ICLR 2014): four stride-2
4x4 convolutions down and four up, as DCGAN's networks, around a Gaussian latent code."""

from __future__ import annotations

import itertools

from torch import Tensor, nn

from unpaired.errors import ConfigError

#: Stride-2 layers each way: image sides must be multiples of 2^4.
LEVELS = 4


def _feature_side(image_size: int) -> int:
    if image_size % 2**LEVELS or image_size < 2**LEVELS:
        raise ConfigError(
            f"the VAE's image_size={image_size} must be a multiple of {2**LEVELS} (it halves "
            f"the image {LEVELS} times); set data.crop_size (and model.*.image_size) to one."
        )
    return image_size // 2**LEVELS


class VAEEncoder(nn.Module):
    """Images ``(N, nc, S, S)`` to the mean and log-variance ``(N, latent_dim)`` each of a
    diagonal Gaussian: convolutions to ``ch``, ``2 ch``, ``4 ch``, ``8 ch`` channels with batch
    norm (not on the first) and LeakyReLU(0.2), then two linear heads."""

    def __init__(self, nc: int = 3, ch: int = 32, latent_dim: int = 128, image_size: int = 64):
        super().__init__()
        side = _feature_side(image_size)
        widths = [ch * 2**level for level in range(LEVELS)]
        layers: list[nn.Module] = []
        for level, (channels_in, channels) in enumerate(zip([nc, *widths], widths, strict=False)):
            layers.append(nn.Conv2d(channels_in, channels, 4, 2, 1))
            if level > 0:
                layers.append(nn.BatchNorm2d(channels))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.mean = nn.Linear(widths[-1] * side * side, latent_dim)
        self.log_variance = nn.Linear(widths[-1] * side * side, latent_dim)
        self.latent_dim = latent_dim

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features = self.features(images)
        return self.mean(features), self.log_variance(features)


class VAEDecoder(nn.Module):
    """Codes ``(N, latent_dim)`` to images ``(N, nc, S, S)`` in [-1, 1]: a linear layer to
    ``8 ch`` channels at ``S / 16``, then transposed convolutions to ``4 ch``, ``2 ch``, ``ch``
    (batch norm, ReLU) and ``nc`` channels, tanh."""

    def __init__(self, nc: int = 3, ch: int = 32, latent_dim: int = 128, image_size: int = 64):
        super().__init__()
        self.side = _feature_side(image_size)
        widths = [ch * 2**level for level in reversed(range(LEVELS))]
        self.project = nn.Linear(latent_dim, widths[0] * self.side * self.side)
        layers: list[nn.Module] = []
        for channels_in, channels in itertools.pairwise(widths):
            layers.append(nn.ConvTranspose2d(channels_in, channels, 4, 2, 1))
            layers += [nn.BatchNorm2d(channels), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], nc, 4, 2, 1), nn.Tanh()]
        self.images = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    def forward(self, codes: Tensor) -> Tensor:
        features = self.project(codes).view(len(codes), -1, self.side, self.side)
        return self.images(features)

"""DCGAN's networks (Radford et al., ICLR 2016), laid out as pytorch/examples' ``dcgan/main.py``
(an ``nn.Sequential`` named ``main``), so that their state dicts load by key."""

from __future__ import annotations

import itertools

from torch import Tensor, nn


class DCGANGenerator(nn.Module):
    """Noise ``(N, nz, 1, 1)`` to images ``(N, nc, 64, 64)`` in [-1, 1]: a 4x4 transposed
    convolution to ``ngf * 8`` channels at 4x4, then four stride-2 4x4 transposed convolutions
    halving the channels and doubling the side, batch norm and ReLU between them, tanh last; no
    biases (batch norm follows every convolution but the last). 3,576,704 parameters with
    ``nz=100, ngf=64, nc=3``."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.nz = nz
        widths = [ngf * 8, ngf * 4, ngf * 2, ngf]
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False)]
        for channels, following in zip(widths, [*widths[1:], nc], strict=True):
            layers += [nn.BatchNorm2d(channels), nn.ReLU(True)]
            layers.append(nn.ConvTranspose2d(channels, following, 4, 2, 1, bias=False))
        layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)

    def forward(self, noise: Tensor) -> Tensor:
        return self.main(noise)


class DCGANDiscriminator(nn.Module):
    """Images ``(N, nc, 64, 64)`` to one logit each, ``(N, 1, 1, 1)``: four stride-2 4x4
    convolutions (``ndf`` to ``ndf * 8`` channels) with LeakyReLU(0.2), batch norm after all but
    the first, then a 4x4 convolution to one value; no biases. 2,765,568 parameters with
    ``ndf=64, nc=3``. The authors end with a sigmoid and BCE; this returns the logit, for the
    ``vanilla`` GAN loss (BCE on logits: the same loss, computed stably)."""

    def __init__(self, ndf: int = 64, nc: int = 3) -> None:
        super().__init__()
        widths = [ndf, ndf * 2, ndf * 4, ndf * 8]
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False)]
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        for channels, following in itertools.pairwise(widths):
            layers.append(nn.Conv2d(channels, following, 4, 2, 1, bias=False))
            layers += [nn.BatchNorm2d(following), nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)

    def forward(self, images: Tensor) -> Tensor:
        return self.main(images)

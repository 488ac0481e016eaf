"""PatchGAN and per-pixel discriminators, laid out like the authors' code (no sigmoid)."""

import torch
from torch import nn

from unpaired.nn.antialias import Downsample
from unpaired.nn.norm import norm_layer, uses_bias


class PatchGANDiscriminator(nn.Module):
    """The authors' ``NLayerDiscriminator``: one logit per overlapping patch.

    With ``n_layers=3`` ("basic") each logit sees a 70x70 patch and a 256x256 input gives a 30x30
    map.

    ``antialias`` gives the CUT authors' default variant (their ``no_antialias`` off): each
    stride-2 conv becomes a stride-1 conv, its norm and LeakyReLU, then a blur
    :class:`~unpaired.nn.antialias.Downsample`. Same parameters (the blur is a buffer), and a
    256x256 input still gives a 30x30 map.
    """

    def __init__(
        self,
        input_nc: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        antialias: bool = False,
    ) -> None:
        super().__init__()
        make_norm = norm_layer(norm)
        bias = uses_bias(norm)
        first_stride = 1 if antialias else 2
        layers: list[nn.Module] = [
            nn.Conv2d(input_nc, ndf, kernel_size=4, stride=first_stride, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        if antialias:
            layers.append(Downsample(ndf))
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            downsamples = n < n_layers  # the last of these convs has stride 1
            stride = 2 if downsamples and not antialias else 1
            layers += [
                nn.Conv2d(
                    ndf * prev, ndf * mult, kernel_size=4, stride=stride, padding=1, bias=bias
                ),
                make_norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
            if downsamples and antialias:
                layers.append(Downsample(ndf * mult))
        layers.append(nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: one logit per pixel (the authors' ``PixelDiscriminator``)."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, norm: str = "instance") -> None:
        super().__init__()
        bias = uses_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, kernel_size=1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias),
            norm_layer(norm)(ndf * 2),
            nn.LeakyReLU(0.2, True),
            # the authors tie this bias to the norm too, though no norm follows it
            nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

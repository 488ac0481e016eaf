"""ResNet generator of CycleGAN, laid out exactly like the authors' ``ResnetGenerator``.

The module tree (``model.<i>``, ``conv_block.<j>``) matches theirs so that their published state
dicts load by key. The ``antialias``/``antialias_up`` options give the CUT authors' variant of the
same generator (their ``no_antialias``/``no_antialias_up`` flags switched off), with their layout.
"""

import torch
from torch import nn

from unpaired.nn.antialias import Downsample, Upsample
from unpaired.nn.norm import norm_layer, uses_bias

PADDING_TYPES = ("reflect", "replicate", "zero")


def _padding(padding_type: str) -> tuple[list[nn.Module], int]:
    """Explicit padding layers and the conv's own padding for a 3x3 conv keeping the size."""
    if padding_type == "reflect":
        return [nn.ReflectionPad2d(1)], 0
    if padding_type == "replicate":
        return [nn.ReplicationPad2d(1)], 0
    if padding_type == "zero":
        return [], 1
    raise ValueError(f"unknown padding_type {padding_type!r}; expected one of {PADDING_TYPES}")


class ResnetBlock(nn.Module):
    """Residual block ``x + conv_block(x)`` with two 3x3 convs and optional dropout between."""

    def __init__(
        self, dim: int, padding_type: str, norm: str, use_dropout: bool, use_bias: bool
    ) -> None:
        super().__init__()
        make_norm = norm_layer(norm)
        pad, p = _padding(padding_type)
        layers: list[nn.Module] = [
            *pad,
            nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias),
            make_norm(dim),
            nn.ReLU(True),
        ]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        pad, p = _padding(padding_type)
        layers += [
            *pad,
            nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias),
            make_norm(dim),
        ]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Encoder (two stride-2 convs), ``n_blocks`` residual blocks, decoder, tanh output.

    With ``antialias`` each stride-2 conv becomes a stride-1 conv, norm, ReLU and a blur
    :class:`~unpaired.nn.antialias.Downsample`; with ``antialias_up`` each transposed conv becomes
    an :class:`~unpaired.nn.antialias.Upsample` and a stride-1 3x3 conv, norm, ReLU. The parameter
    count stays the same (the blur filters are buffers). In the CUT layout (both on, 9 blocks)
    ``model`` indices 0, 4, 8, 12, 16 are the padded input, the two downsampling convs and
    residual blocks 1 and 5: CUT's PatchNCE layers.
    """

    size_multiple = 4  # two stride-2 downsamplings: input sides must be multiples of 4

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        use_dropout: bool = False,
        padding_type: str = "reflect",
        antialias: bool = False,
        antialias_up: bool = False,
    ) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        make_norm = norm_layer(norm)
        bias = uses_bias(norm)
        n_down = 2
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=bias),
            make_norm(ngf),
            nn.ReLU(True),
        ]
        for i in range(n_down):
            ch = ngf * 2**i
            stride = 1 if antialias else 2
            layers += [
                nn.Conv2d(ch, ch * 2, kernel_size=3, stride=stride, padding=1, bias=bias),
                make_norm(ch * 2),
                nn.ReLU(True),
            ]
            if antialias:
                layers.append(Downsample(ch * 2))
        dim = ngf * 2**n_down
        layers += [ResnetBlock(dim, padding_type, norm, use_dropout, bias) for _ in range(n_blocks)]
        for i in range(n_down):
            ch = ngf * 2 ** (n_down - i)
            if antialias_up:
                up = [Upsample(ch), nn.Conv2d(ch, ch // 2, kernel_size=3, padding=1, bias=bias)]
            else:
                up = [
                    nn.ConvTranspose2d(
                        ch, ch // 2, kernel_size=3, stride=2, padding=1, output_padding=1, bias=bias
                    )
                ]
            layers += [*up, make_norm(ch // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

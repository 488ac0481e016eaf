"""The convolutional encoder and decoder that UNIT and MUNIT share (the authors'
``ContentEncoder`` and ``Decoder``)."""

from __future__ import annotations

from torch import Tensor, nn

from unpaired.nn.blocks import ConvBlock, res_blocks


class ContentEncoder(nn.Module):
    """7x7 conv, ``n_downsample`` stride-2 4x4 convs doubling the channels, ``n_res`` residual
    blocks; every conv is followed by ``norm`` and ``activation``.

    Output: ``dim * 2**n_downsample`` channels at ``1 / 2**n_downsample`` of the input size.
    """

    def __init__(
        self,
        n_downsample: int,
        n_res: int,
        input_nc: int,
        dim: int,
        norm: str = "instance",
        activation: str = "relu",
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        layers = [ConvBlock(input_nc, dim, 7, 1, 3, norm, activation, pad_type)]
        for _ in range(n_downsample):
            layers.append(ConvBlock(dim, dim * 2, 4, 2, 1, norm, activation, pad_type))
            dim *= 2
        self.downsample = nn.Sequential(*layers)
        self.res_blocks = res_blocks(n_res, dim, norm, activation, pad_type)
        self.output_nc = dim

    def forward(self, x: Tensor) -> Tensor:
        return self.res_blocks(self.downsample(x))


class Decoder(nn.Module):
    """``n_res`` residual blocks normalised by ``res_norm``; ``n_upsample`` times a nearest x2
    upsampling and a 5x5 conv halving the channels with :class:`~unpaired.nn.blocks.LayerNorm`;
    a 7x7 conv to ``output_nc`` channels and tanh."""

    def __init__(
        self,
        n_upsample: int,
        n_res: int,
        dim: int,
        output_nc: int,
        res_norm: str = "adain",
        activation: str = "relu",
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        self.res_blocks = res_blocks(n_res, dim, res_norm, activation, pad_type)
        layers: list[nn.Module] = []
        for _ in range(n_upsample):
            layers += [
                nn.Upsample(scale_factor=2),
                ConvBlock(dim, dim // 2, 5, 1, 2, "layer", activation, pad_type),
            ]
            dim //= 2
        layers.append(ConvBlock(dim, output_nc, 7, 1, 3, "none", "tanh", pad_type))
        self.upsample = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.upsample(self.res_blocks(x))

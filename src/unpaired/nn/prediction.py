"""Recycle-GAN's temporal predictors: the next frame from the two before it.

Both take the previous frames as separate arguments, ``P(x_{t-2}, x_{t-1}) -> x_t``:

- :class:`StackedFramesUnet`: the authors' ``--which_model_netP unet_256`` (their default and
  their scripts' choice), a U-Net on the two frames stacked along the channels;
- :class:`PredictionNViews`: the authors' ``--which_model_netP prediction``, a shared encoder
  applied to each frame, a U-Net on the two encodings, and a decoder.

Module trees and state-dict keys are the authors' (``model.model.1...``, ``model1``, ``model``,
``model3``), so their weights load by key.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from unpaired.nn.norm import norm_layer, uses_bias
from unpaired.nn.unet import UnetGenerator


class StackedFramesUnet(UnetGenerator):
    """A :class:`~unpaired.nn.unet.UnetGenerator` on ``frames`` frames of ``channels`` stacked
    along the channels (the authors' ``define_G(2 * input_nc, input_nc, ngf, 'unet_256')``)."""

    def __init__(
        self,
        channels: int = 3,
        frames: int = 2,
        num_downs: int = 8,
        ngf: int = 64,
        norm: str = "instance",
        use_dropout: bool = False,
    ) -> None:
        super().__init__(channels * frames, channels, num_downs, ngf, norm, use_dropout)
        self.frames = frames

    def forward(self, *frames: Tensor) -> Tensor:  # type: ignore[override]
        return super().forward(torch.cat(frames, 1))


def _conv_norm_relu(in_nc: int, out_nc: int, norm: str) -> list[nn.Module]:
    return [
        nn.Conv2d(in_nc, out_nc, kernel_size=3, stride=1, padding=1, bias=uses_bias(norm)),
        norm_layer(norm)(out_nc),
        nn.ReLU(True),
    ]


class PredictionNViews(nn.Module):
    """The authors' ``PredictionNViews(input_nc, output_nc, 6, npf)``: each frame through a shared
    encoder (7x7 conv to ``npf``, 3x3 convs to ``2 npf`` and ``4 npf``, stride 1), the two
    encodings stacked into a U-Net of ``num_downs`` levels and ``16 npf`` base filters, then a
    decoder (3x3 convs to ``2 npf`` and ``npf``, 7x7 conv to ``output_nc``, tanh)."""

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        num_downs: int = 6,
        npf: int = 64,
        norm: str = "instance",
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        bias = uses_bias(norm)
        self.model1 = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, npf, kernel_size=7, padding=0, bias=bias),
            norm_layer(norm)(npf),
            nn.ReLU(True),
            *_conv_norm_relu(npf, npf * 2, norm),
            *_conv_norm_relu(npf * 2, npf * 4, norm),
        )
        self.model = UnetGenerator(npf * 4 * 2, npf * 4, num_downs, npf * 4 * 4, norm, use_dropout)
        self.model3 = nn.Sequential(
            *_conv_norm_relu(npf * 4, npf * 2, norm),
            *_conv_norm_relu(npf * 2, npf, norm),
            nn.ReflectionPad2d(3),
            nn.Conv2d(npf, output_nc, kernel_size=7, padding=0),
            nn.Tanh(),
        )

    def forward(self, previous: Tensor, last: Tensor) -> Tensor:
        return self.model3(self.model(torch.cat([self.model1(previous), self.model1(last)], 1)))

"""The style-transfer networks: Johnson et al.'s transformation network and the AdaIN decoder.

Both keep the module tree (and so the state-dict keys) of their anchors, pytorch/examples'
``fast_neural_style/neural_style/transformer_net.py`` and naoto0804/pytorch-AdaIN's ``net.py``
(``decoder``), so that the weights their scripts save load into ours as they are.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class ConvLayer(nn.Module):
    """Reflection padding of ``kernel_size // 2``, then a convolution."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(ConvLayer):
    """Nearest-neighbour upsampling by ``upsample``, then a :class:`ConvLayer` (upsampling and a
    convolution instead of a transposed convolution, against checkerboard artefacts)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, upsample: int
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, 1)
        self.upsample = upsample

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.interpolate(x, mode="nearest", scale_factor=self.upsample))


class ResidualBlock(nn.Module):
    """conv-IN-ReLU-conv-IN plus the input (no ReLU after the sum)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.in2(self.conv2(self.relu(self.in1(self.conv1(x)))))


class TransformerNet(nn.Module):
    """Johnson et al.'s (2016) image transformation network as pytorch/examples builds it: a 9x9
    convolution, two stride-2 3x3 convolutions, five residual blocks, two 2x upsampling 3x3
    convolutions and a 9x9 convolution to RGB; affine instance norm and ReLU after every
    convolution but the last, reflection padding throughout. 1,679,235 parameters at the
    default ``width`` 32 (the first layer's channels; the others are 2x and 4x it).

    Its output is unbounded, in the scale of its input (pytorch/examples feed [0, 255]).
    """

    size_multiple = 4  # two stride-2 convolutions, undone by two upsamplings

    def __init__(self, width: int = 32, n_blocks: int = 5) -> None:
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        self.conv1 = ConvLayer(3, w1, 9, 1)
        self.in1 = nn.InstanceNorm2d(w1, affine=True)
        self.conv2 = ConvLayer(w1, w2, 3, 2)
        self.in2 = nn.InstanceNorm2d(w2, affine=True)
        self.conv3 = ConvLayer(w2, w3, 3, 2)
        self.in3 = nn.InstanceNorm2d(w3, affine=True)
        for index in range(1, n_blocks + 1):
            self.add_module(f"res{index}", ResidualBlock(w3))
        self.n_blocks = n_blocks
        self.deconv1 = UpsampleConvLayer(w3, w2, 3, upsample=2)
        self.in4 = nn.InstanceNorm2d(w2, affine=True)
        self.deconv2 = UpsampleConvLayer(w2, w1, 3, upsample=2)
        self.in5 = nn.InstanceNorm2d(w1, affine=True)
        self.deconv3 = ConvLayer(w1, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for index in range(1, self.n_blocks + 1):
            y = getattr(self, f"res{index}")(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


#: The AdaIN decoder's convolutions, from relu4_1 (512 channels) back to RGB, and where the
#: nearest-neighbour 2x upsamplings come (after the first, fifth and seventh convolution).
_DECODER_CONVS = (
    (512, 256),
    (256, 256),
    (256, 256),
    (256, 256),
    (256, 128),
    (128, 128),
    (128, 64),
    (64, 64),
)
_UPSAMPLE_AFTER = {0, 4, 6}


class AdaINDecoder(nn.Sequential):
    """The AdaIN decoder (Huang & Belongie 2017): VGG-19 up to ``relu4_1`` mirrored, with
    nearest-neighbour upsampling in place of pooling, reflection padding and no normalisation;
    the last convolution gives RGB without an activation. 3,505,219 parameters; a Sequential
    with the indices (and state-dict keys) of the authors' ``net.decoder``.

    Its output is in the scale of the encoder's input ([0, 1]), unbounded.
    """

    size_multiple = 8  # relu4_1 is at 1/8 of the image's side

    def __init__(self) -> None:
        layers: list[nn.Module] = []
        for index, (cin, cout) in enumerate(_DECODER_CONVS):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3), nn.ReLU()]
            if index in _UPSAMPLE_AFTER:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(64, 3, 3)]
        super().__init__(*layers)

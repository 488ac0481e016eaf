"""The multi-scale discriminator of UNIT and MUNIT (the authors' ``MsImageDis``)."""

from __future__ import annotations

from torch import Tensor, nn

from unpaired.errors import ConfigError
from unpaired.nn.blocks import ConvBlock


class MultiScaleDiscriminator(nn.Module):
    """``num_scales`` PatchGAN-like discriminators, each on the image average-pooled once more
    than the previous one (3x3, stride 2); returns one logit map per scale, finest first.

    Each scale: ``n_layer`` stride-2 4x4 :class:`~unpaired.nn.blocks.ConvBlock` (``dim`` channels,
    doubling after the first; the first never normalised) and a 1x1 conv to one channel.
    """

    def __init__(
        self,
        input_nc: int = 3,
        dim: int = 64,
        n_layer: int = 4,
        num_scales: int = 3,
        norm: str = "none",
        activation: str = "lrelu",
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        if n_layer < 1 or num_scales < 1:
            raise ConfigError(
                f"the multi-scale discriminator needs n_layer >= 1 and num_scales >= 1, got "
                f"n_layer={n_layer}, num_scales={num_scales}."
            )
        self.n_layer = n_layer
        self.num_scales = num_scales
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.cnns = nn.ModuleList(
            self._scale(input_nc, dim, n_layer, norm, activation, pad_type)
            for _ in range(num_scales)
        )

    @staticmethod
    def _scale(
        input_nc: int, dim: int, n_layer: int, norm: str, activation: str, pad_type: str
    ) -> nn.Sequential:
        layers = [ConvBlock(input_nc, dim, 4, 2, 1, "none", activation, pad_type)]
        for _ in range(n_layer - 1):
            layers.append(ConvBlock(dim, dim * 2, 4, 2, 1, norm, activation, pad_type))
            dim *= 2
        layers.append(nn.Conv2d(dim, 1, 1, 1, 0))
        return nn.Sequential(*layers)

    @property
    def min_input_size(self) -> int:
        """Smallest image side every scale can take. Each 4x4 stride-2 conv maps a side ``s`` to
        ``floor(s / 2)`` and needs ``s >= 2``, so a scale needs ``2**n_layer`` pixels; the pooling
        maps ``s`` to ``ceil(s / 2)``, and the coarsest scale sees the image pooled
        ``num_scales - 1`` times."""
        return (2**self.n_layer - 1) * 2 ** (self.num_scales - 1) + 1

    def forward(self, x: Tensor) -> list[Tensor]:
        if min(x.shape[-2:]) < self.min_input_size:
            raise ConfigError(
                f"images of {x.shape[-2]}x{x.shape[-1]} are too small for the multi-scale "
                f"discriminator (n_layer={self.n_layer}, num_scales={self.num_scales}): its sides "
                f"must be at least {self.min_input_size}. Lower model.discriminator.num_scales or "
                "model.discriminator.n_layer, or train on larger crops."
            )
        outputs = []
        for cnn in self.cnns:
            outputs.append(cnn(x))
            x = self.downsample(x)
        return outputs

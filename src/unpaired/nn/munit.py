"""MUNIT's auto-encoder of one domain (the authors' ``AdaINGen``): a content encoder, a style
encoder, and a decoder whose residual blocks take their AdaIN scale and shift from an MLP on the
style code."""

from __future__ import annotations

from itertools import pairwise

from torch import Tensor, nn

from unpaired.nn.autoencoder import ContentEncoder, Decoder
from unpaired.nn.blocks import AdaptiveInstanceNorm2d, ConvBlock, activation_layer

#: The style encoder's stride-2 convolutions (fixed in the authors' code).
STYLE_DOWNSAMPLINGS = 4


class StyleEncoder(nn.Module):
    """7x7 conv; ``n_downsample`` stride-2 4x4 convs (the first two double the channels); global
    average pooling; a 1x1 conv to the ``style_dim``-long code. No normalisation by default: it
    would remove the very statistics that make up the style."""

    def __init__(
        self,
        n_downsample: int,
        input_nc: int,
        dim: int,
        style_dim: int,
        norm: str = "none",
        activation: str = "relu",
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBlock(input_nc, dim, 7, 1, 3, norm, activation, pad_type)]
        for i in range(n_downsample):
            out = dim * 2 if i < 2 else dim
            layers.append(ConvBlock(dim, out, 4, 2, 1, norm, activation, pad_type))
            dim = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, style_dim, 1, 1, 0)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Style codes, ``(N, style_dim)``."""
        return self.model(x).flatten(1)


class MLP(nn.Module):
    """``n_layers`` fully connected layers, ``activation`` between them, none after the last."""

    def __init__(
        self, input_dim: int, output_dim: int, dim: int, n_layers: int, activation: str = "relu"
    ) -> None:
        super().__init__()
        if n_layers < 2:
            raise ValueError(f"an MLP needs at least 2 layers, got {n_layers}")
        widths = [input_dim] + [dim] * (n_layers - 1)
        layers: list[nn.Module] = []
        for width_in, width_out in pairwise(widths):
            layers += [nn.Linear(width_in, width_out), activation_layer(activation)]
        layers.append(nn.Linear(dim, output_dim))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x.flatten(1))


class AdaINGenerator(nn.Module):
    """Content and style encoders, AdaIN decoder and its MLP for one domain.

    ``encode(x)`` gives the content code (``dim * 2**n_downsample`` channels at 1/4 size with
    the defaults) and the style code ``(N, style_dim)``; ``decode(content, style)`` renders them.
    """

    def __init__(
        self,
        input_nc: int = 3,
        dim: int = 64,
        style_dim: int = 8,
        n_downsample: int = 2,
        n_res: int = 4,
        mlp_dim: int = 256,
        activation: str = "relu",
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        self.style_dim = style_dim
        self.size_multiple = 2**n_downsample
        self.enc_style = StyleEncoder(
            STYLE_DOWNSAMPLINGS, input_nc, dim, style_dim, "none", activation, pad_type
        )
        self.enc_content = ContentEncoder(
            n_downsample, n_res, input_nc, dim, "instance", activation, pad_type
        )
        self.dec = Decoder(
            n_downsample, n_res, self.enc_content.output_nc, input_nc, "adain", activation, pad_type
        )
        self._adain_layers = [
            m for m in self.dec.modules() if isinstance(m, AdaptiveInstanceNorm2d)
        ]
        n_adain_params = sum(2 * m.num_features for m in self._adain_layers)
        self.mlp = MLP(style_dim, n_adain_params, mlp_dim, 3, activation)

    def encode(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Content code and style code of each image."""
        return self.enc_content(images), self.enc_style(images)

    def decode(self, content: Tensor, style: Tensor) -> Tensor:
        """Images from content codes and style codes ``(N, style_dim)``.

        The MLP output is split over the AdaIN layers in decoder order, each taking a shift (its
        first ``C`` values) and a scale (the next ``C``), in the authors' layout.
        """
        params = self.mlp(style)
        sizes = [2 * m.num_features for m in self._adain_layers]
        try:
            for layer, chunk in zip(self._adain_layers, params.split(sizes, dim=1), strict=True):
                shift, scale = chunk.chunk(2, dim=1)
                layer.set_style(scale, shift)
            return self.dec(content)
        finally:  # no style (and no autograd graph) outlives the call
            for layer in self._adain_layers:
                layer.set_style(None, None)

    def forward(self, images: Tensor) -> Tensor:
        """Reconstruction of ``images`` from their own content and style."""
        return self.decode(*self.encode(images))

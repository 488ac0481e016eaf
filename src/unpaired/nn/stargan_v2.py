"""StarGAN v2's networks (Choi et al., CVPR 2020), as the authors' ``core/model.py`` builds them.

One generator for every domain, steered by a style code; a mapping network (latent code ->
style code, one head per domain), a style encoder (image -> style code, one head per domain) and
a multi-task discriminator (one real/fake logit per domain). Domains are given as integer
indices, a ``(N,)`` tensor ``y`` with one per image. Module and parameter names are the
authors', so their state dicts load as they are.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _stages(img_size: int) -> int:
    """``log2(img_size)``, for a power of two of at least 16 (what the authors' sizes assume)."""
    stages = int(math.log2(img_size))
    if img_size < 16 or 2**stages != img_size:
        raise ValueError(
            f"StarGAN v2 needs a power-of-two image size of at least 16, not {img_size}"
        )
    return stages


def _first_width(img_size: int, dim_in: int | None) -> int:
    """The channels of the first conv: the authors' ``2**14 // img_size`` (64 at 256 pixels)
    unless given (their rule gives 256 channels at full resolution for 64-pixel images)."""
    return 2**14 // img_size if dim_in is None else dim_in


class ResBlk(nn.Module):
    """Pre-activation residual block (optional instance norm, optional 2x average-pool
    downsampling), output divided by sqrt(2) for unit variance."""

    def __init__(
        self, dim_in: int, dim_out: int, normalize: bool = False, downsample: bool = False
    ) -> None:
        super().__init__()
        self.actv = nn.LeakyReLU(0.2)
        self.normalize = normalize
        self.downsample = downsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_in, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        if normalize:
            self.norm1 = nn.InstanceNorm2d(dim_in, affine=True)
            self.norm2 = nn.InstanceNorm2d(dim_in, affine=True)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def _shortcut(self, x: Tensor) -> Tensor:
        if self.learned_sc:
            x = self.conv1x1(x)
        return F.avg_pool2d(x, 2) if self.downsample else x

    def _residual(self, x: Tensor) -> Tensor:
        if self.normalize:
            x = self.norm1(x)
        x = self.conv1(self.actv(x))
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if self.normalize:
            x = self.norm2(x)
        return self.conv2(self.actv(x))

    def forward(self, x: Tensor) -> Tensor:
        return (self._shortcut(x) + self._residual(x)) / math.sqrt(2)


class AdaIN(nn.Module):
    """Instance norm whose scale ``1 + gamma`` and shift ``beta`` come from the style code."""

    def __init__(self, style_dim: int, num_features: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(num_features, affine=False)
        self.fc = nn.Linear(style_dim, num_features * 2)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        gamma, beta = self.fc(s)[:, :, None, None].chunk(2, dim=1)
        return (1 + gamma) * self.norm(x) + beta


class AdainResBlk(nn.Module):
    """Residual block with AdaIN (optional 2x nearest upsampling). With ``w_hpf > 0`` the
    authors drop the shortcut: the high-pass skips of the generator carry the detail instead."""

    def __init__(
        self,
        dim_in: int,
        dim_out: int,
        style_dim: int = 64,
        w_hpf: float = 0,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.w_hpf = w_hpf
        self.actv = nn.LeakyReLU(0.2)
        self.upsample = upsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN(style_dim, dim_in)
        self.norm2 = AdaIN(style_dim, dim_out)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def _shortcut(self, x: Tensor) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv1x1(x) if self.learned_sc else x

    def _residual(self, x: Tensor, s: Tensor) -> Tensor:
        x = self.actv(self.norm1(x, s))
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.actv(self.norm2(self.conv1(x), s))
        return self.conv2(x)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        out = self._residual(x, s)
        if self.w_hpf == 0:
            out = (out + self._shortcut(x)) / math.sqrt(2)
        return out


class HighPass(nn.Module):
    """A 3x3 Laplacian-like high-pass filter divided by ``w_hpf``, applied per channel."""

    def __init__(self, w_hpf: float) -> None:
        super().__init__()
        kernel = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]])
        self.register_buffer("filter", kernel / w_hpf)

    def forward(self, x: Tensor) -> Tensor:
        kernel = self.filter[None, None].repeat(x.size(1), 1, 1, 1)
        return F.conv2d(x, kernel, padding=1, groups=x.size(1))


class StarGANv2Generator(nn.Module):
    """Encoder of downsampling residual blocks with instance norm, two bottleneck blocks, and a
    mirrored decoder of AdaIN residual blocks driven by the style code ``s``.

    ``w_hpf > 0`` (the CelebA-HQ setting) adds one down/up stage, drops the decoder's shortcuts
    and, when face ``masks`` (two heatmaps from the authors' face-landmark network) are given,
    adds high-passed, masked encoder features at 32, 64 and 128 pixels.
    """

    def __init__(
        self,
        img_size: int = 256,
        style_dim: int = 64,
        max_conv_dim: int = 512,
        w_hpf: float = 1,
        dim_in: int | None = None,
    ) -> None:
        super().__init__()
        dim_in = _first_width(img_size, dim_in)
        self.img_size = img_size
        self.style_dim = style_dim
        self.from_rgb = nn.Conv2d(3, dim_in, 3, 1, 1)
        self.encode = nn.ModuleList()
        self.decode = nn.ModuleList()
        self.to_rgb = nn.Sequential(
            nn.InstanceNorm2d(dim_in, affine=True), nn.LeakyReLU(0.2), nn.Conv2d(dim_in, 3, 1, 1, 0)
        )
        repeat_num = _stages(img_size) - 4 + (1 if w_hpf > 0 else 0)
        self.size_multiple = 2**repeat_num  # fully convolutional: any multiple of this
        dim_out = dim_in
        for _ in range(repeat_num):
            dim_out = min(dim_in * 2, max_conv_dim)
            self.encode.append(ResBlk(dim_in, dim_out, normalize=True, downsample=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_in, style_dim, w_hpf, upsample=True))
            dim_in = dim_out
        for _ in range(2):
            self.encode.append(ResBlk(dim_out, dim_out, normalize=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_out, style_dim, w_hpf))
        self.hpf = HighPass(w_hpf) if w_hpf > 0 else None

    def forward(self, x: Tensor, s: Tensor, masks: tuple[Tensor, Tensor] | None = None) -> Tensor:
        x = self.from_rgb(x)
        cache = {}  # encoder features by side (a Python int: a traced export keeps the sizes)
        for block in self.encode:
            if masks is not None and int(x.shape[2]) in (32, 64, 128):
                cache[int(x.shape[2])] = x
            x = block(x)
        for block in self.decode:
            x = block(x, s)
            if masks is None or self.hpf is None:
                continue
            size = int(x.shape[2])
            if size in (32, 64, 128):
                mask = masks[0] if size == 32 else masks[1]
                mask = F.interpolate(mask, size=size, mode="bilinear")
                x = x + self.hpf(mask * cache[size])
        return self.to_rgb(x)


def _pick(per_domain: list[Tensor], y: Tensor) -> Tensor:
    """Row ``i`` of head ``y[i]``: ``(N, dim)`` from ``num_domains`` outputs of ``(N, dim)``."""
    stacked = torch.stack(per_domain, dim=1)  # (N, num_domains, dim)
    return stacked[torch.arange(y.shape[0], device=y.device), y]


class MappingNetwork(nn.Module):
    """Latent code -> style code: a shared 4-layer MLP (width ``hidden_dim``), then one 4-layer
    head per domain; returns the head of each image's domain ``y``."""

    def __init__(
        self, latent_dim: int = 16, style_dim: int = 64, num_domains: int = 2, hidden_dim: int = 512
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        layers: list[nn.Module] = [nn.Linear(latent_dim, hidden_dim), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.unshared = nn.ModuleList()
        for _ in range(num_domains):
            head: list[nn.Module] = []
            for _ in range(3):
                head += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU()]
            self.unshared.append(nn.Sequential(*head, nn.Linear(hidden_dim, style_dim)))

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = self.shared(z)
        return _pick([head(h) for head in self.unshared], y)


def _downsampling_trunk(
    img_size: int, max_conv_dim: int, dim_in: int | None
) -> tuple[list[nn.Module], int]:
    """The trunk the style encoder and the discriminator share in design: a 3x3 conv, residual
    blocks halving the size down to 4 pixels, then LeakyReLU, a 4x4 conv to 1 pixel, LeakyReLU."""
    dim_in = _first_width(img_size, dim_in)
    blocks: list[nn.Module] = [nn.Conv2d(3, dim_in, 3, 1, 1)]
    dim_out = dim_in
    for _ in range(_stages(img_size) - 2):
        dim_out = min(dim_in * 2, max_conv_dim)
        blocks.append(ResBlk(dim_in, dim_out, downsample=True))
        dim_in = dim_out
    blocks += [nn.LeakyReLU(0.2), nn.Conv2d(dim_out, dim_out, 4, 1, 0), nn.LeakyReLU(0.2)]
    return blocks, dim_out


class StyleEncoder(nn.Module):
    """Image -> style code: the shared trunk, then one linear head per domain."""

    def __init__(
        self,
        img_size: int = 256,
        style_dim: int = 64,
        num_domains: int = 2,
        max_conv_dim: int = 512,
        dim_in: int | None = None,
    ) -> None:
        super().__init__()
        blocks, dim_out = _downsampling_trunk(img_size, max_conv_dim, dim_in)
        self.shared = nn.Sequential(*blocks)
        self.unshared = nn.ModuleList(nn.Linear(dim_out, style_dim) for _ in range(num_domains))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.shared(x).flatten(1)
        return _pick([head(h) for head in self.unshared], y)


class StarGANv2Discriminator(nn.Module):
    """Multi-task discriminator: the shared trunk and a 1x1 conv to one logit per domain;
    returns the logit of each image's domain ``y``, ``(N,)``."""

    def __init__(
        self,
        img_size: int = 256,
        num_domains: int = 2,
        max_conv_dim: int = 512,
        dim_in: int | None = None,
    ) -> None:
        super().__init__()
        blocks, dim_out = _downsampling_trunk(img_size, max_conv_dim, dim_in)
        self.main = nn.Sequential(*blocks, nn.Conv2d(dim_out, num_domains, 1, 1, 0))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        out = self.main(x).flatten(1)  # (N, num_domains)
        return out[torch.arange(y.shape[0], device=y.device), y]

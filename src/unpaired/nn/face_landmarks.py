"""The face-landmark network (FAN) that StarGAN v2's CelebA-HQ setting (``w_hpf=1``) takes its
face masks from, as the authors' ``core/wing.py`` builds and uses it.

Their network is the first hourglass stage of the Adaptive Wing Loss FAN (Wang et al., ICCV 2019),
trained on WFLW: 98 landmark heatmaps and a boundary heatmap at 64x64 for a 256x256 face in
[0, 1], with CoordConv layers (coordinate channels, and their distance from the centre, appended
to the input). Its pretrained weights are the authors' ``wing.ckpt`` (:data:`WING_URL`), read from
a file or torch hub's cache and never downloaded. The module names are theirs, so that the file's
state dict loads as it is.

:func:`face_masks` is their ``get_heatmap`` with its ``preprocess``: the landmark heatmaps,
upsampled to 256x256, min-max normalised, some shifted and sharpened per facial part (chin,
eyebrows, nose, eyes, lips), and summed into two masks: the whole face, and the face without its
outline, mouth and eyebrows. Their generator adds high-passed encoder features under the first
mask at 32 pixels and under the second at 64 and 128
(:class:`~unpaired.nn.stargan_v2.StarGANv2Generator`).

Their alignment of new photos to CelebA-HQ's mean landmarks (``--mode align``, which needs OpenCV
and their ``celeba_lm_mean.npz``) is not part of this module: CelebA-HQ is aligned already.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from unpaired.errors import CheckpointError
from unpaired.utils.checkpoint import load_checkpoint
from unpaired.utils.pretrained import pretrained_file

#: The authors' address of their FAN weights (``download.sh wing``; ``dl=1``: the file itself,
#: not Dropbox's page).
WING_URL = "https://www.dropbox.com/s/tjxpypwpt38926e/wing.ckpt?dl=1"
WING_FILE = "wing.ckpt"
#: WFLW's landmarks; the network's last heatmap is the face boundary.
LANDMARKS = 98
#: The size the network reads (their ``get_heatmap`` resizes every image to it).
INPUT_SIZE = 256
#: Heatmaps below this are dropped before the normalisation (their ``truncate``).
HEATMAP_THRESHOLD = 0.1

#: Their ``index_map``: the landmark channels [start, end) of each facial part.
CHIN = (8, 25)
EYEBROWS = (33, 51)
EYEBROW_EDGES = (33, 46)
NOSE = (51, 55)
NOSTRILS = (55, 60)
EYES = (60, 76)
LIP_EDGES = (76, 82)
UPPER_LIP = (77, 82)
LOWER_LIP = (83, 88)
INNER_LIP = (88, 96)
#: Their per-part operations (at 256 pixels): a vertical shift (positive: up) and a power.
PART_OPERATIONS = (
    (CHIN, 0, 3),
    (EYEBROWS, -7, 2),
    (NOSTRILS, 8, 4),
    (UPPER_LIP, -8, 4),
    (LOWER_LIP, 8, 4),
    (INNER_LIP, -2, 3),
)


def coordinate_channels(size: int) -> Tensor:
    """``(1, 3, size, size)``: the row and column coordinates in [-1, 1] and their distance from
    the centre divided by its maximum (their ``AddCoordsTh`` with ``with_r``)."""
    line = torch.arange(size, dtype=torch.float32) / (size - 1) * 2 - 1
    rows = line[:, None].expand(size, size)
    columns = line[None, :].expand(size, size)
    radius = torch.sqrt(rows**2 + columns**2)
    return torch.stack([rows, columns, radius / radius.max()])[None]


class CoordConv(nn.Module):
    """A convolution of the input with :func:`coordinate_channels` appended (their
    ``CoordConvTh``; its boundary channels are never used by this network)."""

    def __init__(self, size: int, in_channels: int, out_channels: int, **conv: int) -> None:
        super().__init__()
        self.register_buffer("coordinates", coordinate_channels(size), persistent=False)
        self.conv = nn.Conv2d(in_channels + 3, out_channels, **conv)

    def forward(self, x: Tensor) -> Tensor:
        coordinates = self.coordinates.expand(x.shape[0], -1, -1, -1)
        return self.conv(torch.cat([x, coordinates], dim=1))


class ConvBlock(nn.Module):
    """Pre-activation block of three 3x3 convolutions (half, quarter, quarter of the output
    channels) whose outputs are concatenated and added to the input (projected by a BN-ReLU-1x1
    convolution when the widths differ)."""

    def __init__(self, in_planes: int, out_planes: int) -> None:
        super().__init__()
        half, quarter = out_planes // 2, out_planes // 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, half, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, quarter, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(quarter)
        self.conv3 = nn.Conv2d(quarter, quarter, 3, 1, 1, bias=False)
        self.downsample = None
        if in_planes != out_planes:
            self.downsample = nn.Sequential(
                nn.BatchNorm2d(in_planes),
                nn.ReLU(),
                nn.Conv2d(in_planes, out_planes, 1, 1, bias=False),
            )

    def forward(self, x: Tensor) -> Tensor:
        out1 = self.conv1(F.relu(self.bn1(x)))
        out2 = self.conv2(F.relu(self.bn2(out1)))
        out3 = self.conv3(F.relu(self.bn3(out2)))
        residual = x if self.downsample is None else self.downsample(x)
        return torch.cat([out1, out2, out3], dim=1) + residual


class HourGlass(nn.Module):
    """A CoordConv, then ``depth`` levels of (skip branch | average pool, recurse, nearest
    upsample), all 256 channels wide; the blocks are named ``b1_<level>`` (skip),
    ``b2_<level>`` (after the pool), ``b2_plus_1`` (the bottom) and ``b3_<level>`` (before the
    upsample), as theirs."""

    def __init__(self, depth: int = 4, size: int = 64, features: int = 256) -> None:
        super().__init__()
        self.depth = depth
        self.coordconv = CoordConv(size, features, features, kernel_size=1)
        self._add_level(depth, features)

    def _add_level(self, level: int, features: int) -> None:
        """Their registration order (their state dict's key order): b1, b2, the level below, b3."""
        self.add_module(f"b1_{level}", ConvBlock(features, features))
        self.add_module(f"b2_{level}", ConvBlock(features, features))
        if level > 1:
            self._add_level(level - 1, features)
        else:
            self.add_module("b2_plus_1", ConvBlock(features, features))
        self.add_module(f"b3_{level}", ConvBlock(features, features))

    def _level(self, level: int, x: Tensor) -> Tensor:
        skip = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](F.avg_pool2d(x, 2, stride=2))
        low = self._level(level - 1, low) if level > 1 else self._modules["b2_plus_1"](low)
        low = self._modules[f"b3_{level}"](low)
        return skip + F.interpolate(low, scale_factor=2, mode="nearest")

    def forward(self, x: Tensor) -> Tensor:
        return self._level(self.depth, self.coordconv(x))


class FAN(nn.Module):
    """The authors' ``FAN(num_modules=1, end_relu=False)``: ``(N, 3, 256, 256)`` faces in [0, 1]
    to ``(N, 99, 64, 64)`` heatmaps (98 landmarks and the boundary).

    Frozen and always in evaluation mode (its batch norms use their running statistics).

    Args:
        weights: the authors' ``wing.ckpt`` (a ``{"state_dict": ...}`` file; the extra stages
            it holds are ignored, as theirs does), None for torch hub's cache, or ``"random"``
            (tests: nothing is read).
        option: the setting that names ``weights``, for the error when the file is missing.
    """

    def __init__(
        self, weights: str | Path | None = None, option: str = "model.fan_weights"
    ) -> None:
        super().__init__()
        self.conv1 = CoordConv(INPUT_SIZE, 3, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = ConvBlock(64, 128)
        self.conv3 = ConvBlock(128, 128)
        self.conv4 = ConvBlock(128, 256)
        self.m0 = HourGlass()
        self.top_m_0 = ConvBlock(256, 256)
        self.conv_last0 = nn.Conv2d(256, 256, 1)
        self.bn_end0 = nn.BatchNorm2d(256)
        self.l0 = nn.Conv2d(256, LANDMARKS + 1, 1)
        if weights != "random":
            self._load(pretrained_file(weights, WING_FILE, WING_URL, "the FAN weights", option))
        self.requires_grad_(False)
        self.eval()

    def _load(self, path: Path) -> None:
        checkpoint = load_checkpoint(path)
        state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
        if not isinstance(state, dict):
            raise CheckpointError(
                f"{path} is not the authors' {WING_FILE}: it has no 'state_dict' ({WING_URL})"
            )
        own = self.state_dict()
        wanted = [key for key in own if not key.endswith("num_batches_tracked")]
        missing = [key for key in wanted if key not in state]
        reshaped = [key for key in wanted if key in state and state[key].shape != own[key].shape]
        if missing or reshaped:
            shown = ", ".join((missing + reshaped)[:3])
            raise CheckpointError(
                f"{path} is not the authors' {WING_FILE} ({WING_URL}): "
                f"{len(missing)} missing and {len(reshaped)} reshaped weights ({shown})"
            )
        self.load_state_dict({key: state[key] for key in wanted}, strict=False)

    def train(self, mode: bool = True) -> FAN:
        """Always eval: a parent's ``train()`` must not switch its batch norms to batch
        statistics."""
        return super().train(False)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.avg_pool2d(self.conv2(x), 2, stride=2)
        x = self.conv4(self.conv3(x))
        x = self.top_m_0(self.m0(x))
        x = F.relu(self.bn_end0(self.conv_last0(x)))
        return self.l0(x)


def shift_rows(x: Tensor, pixels: int) -> Tensor:
    """``x`` moved up by ``pixels`` rows (down when negative), wrapping around (their
    ``shift``)."""
    return torch.roll(x, -pixels, dims=2)


def _min_max_normalize(x: Tensor, eps: float = 1e-6) -> Tensor:
    flat = x.flatten(2)
    low, high = flat.amin(dim=2, keepdim=True), flat.amax(dim=2, keepdim=True)
    return ((flat - low) / (high - low + eps)).view_as(x)


def masks_from_heatmaps(heatmaps: Tensor) -> tuple[Tensor, Tensor]:
    """Their ``preprocess`` of ``(N, 98, H, W)`` landmark heatmaps: the two ``(N, 1, H, W)``
    masks in [0, 1] (the face; the face without outline, mouth and eyebrows)."""
    x = torch.where(heatmaps < HEATMAP_THRESHOLD, torch.zeros_like(heatmaps), heatmaps)
    x = _min_max_normalize(x)
    scale = x.size(2) // INPUT_SIZE
    for (start, end), shift, power in PART_OPERATIONS:
        x[:, start:end] = shift_rows(x[:, start:end], shift * scale) ** power
    dropped = [*range(CHIN[0]), *range(CHIN[1], EYEBROWS[0])]
    dropped += [EYEBROW_EDGES[0], EYEBROW_EDGES[1], LIP_EDGES[0], LIP_EDGES[1]]
    x[:, dropped] = 0
    x[:, NOSE[0] + 1 : NOSE[1]] = shift_rows(x[:, NOSE[0] + 1 : NOSE[1]], 4 * scale)
    eyes = x[:, EYES[0] : EYES[1]]
    x[:, EYES[0] : EYES[1]] = shift_rows(eyes, -8) ** 3 + shift_rows(eyes, -24)
    inner = x.clone()
    for start, end in (CHIN, (LIP_EDGES[0], INNER_LIP[1]), EYEBROWS):
        inner[:, start:end] = 0
    # NaN (from NaN heatmaps) counts as no face; theirs means to, but zeroes the second mask where
    # the first is NaN after zeroing the first's, so its NaNs stay
    face = torch.nan_to_num(x.sum(dim=1, keepdim=True), nan=0.0)
    inner = torch.nan_to_num(inner.sum(dim=1, keepdim=True), nan=0.0)
    return face.clamp(0, 1), inner.clamp(0, 1)


@torch.no_grad()
def landmark_heatmaps(fan: FAN, images: Tensor) -> Tensor:
    """``(N, 98, 64, 64)``: the landmark heatmaps of ``images`` in [-1, 1] (any size), resized
    to 256 for the network (their ``get_heatmap(images, b_preprocess=False)``)."""
    resized = F.interpolate(images, size=INPUT_SIZE, mode="bilinear")
    return fan(resized * 0.5 + 0.5)[:, :LANDMARKS]


def face_masks(fan: FAN, images: Tensor) -> tuple[Tensor, Tensor]:
    """The two face masks of ``images`` in [-1, 1] (any size), at 256x256 (their
    ``get_heatmap``): :func:`landmark_heatmaps` upsampled to 256, then
    :func:`masks_from_heatmaps`."""
    # theirs upsamples by the factor 256 // 64, the same as to 256 with corners aligned
    heatmaps = F.interpolate(
        landmark_heatmaps(fan, images), size=INPUT_SIZE, mode="bilinear", align_corners=True
    )
    return masks_from_heatmaps(heatmaps)

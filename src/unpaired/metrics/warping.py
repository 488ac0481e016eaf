"""Warping error of a translated video without ground truth (Lai et al., ECCV 2018): how much
each output frame differs from the previous output frame carried along the input's motion.

The motion is the optical flow of the *input* frames, from torchvision's RAFT (``raft_small`` or
``raft_large``) with its published weights, read from a file or from torch hub's checkpoint
cache and never downloaded at run time. Pixels whose forward and backward flows disagree
(occluded, or entering the picture) are left out, by the usual consistency test
``|F_b + F_f(x + F_b)|^2 < 0.01 (|F_b|^2 + |F_f(x + F_b)|^2) + 0.5``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.optical_flow import (
    Raft_Large_Weights,
    Raft_Small_Weights,
    raft_large,
    raft_small,
)

from unpaired.errors import ConfigError

#: RAFT's choices: (builder, its published weights' URL).
RAFT_MODELS = {
    "small": (raft_small, Raft_Small_Weights.DEFAULT.url),
    "large": (raft_large, Raft_Large_Weights.DEFAULT.url),
}
#: RAFT's correlation pyramid needs sides of at least this (and multiples of 8).
_MIN_FLOW_SIDE = 128


def resolve_raft_weights(path: str | Path | None, model: str = "small") -> Path:
    """The RAFT weights file to use: ``path`` if given, else torch hub's cache.

    Raises:
        ConfigError: unknown ``model``, or no such file; the message gives the URL, the file
            name and both ways to provide it.
    """
    if model not in RAFT_MODELS:
        raise ConfigError(f"metrics.raft_model={model!r}: use small or large.")
    url = RAFT_MODELS[model][1]
    name = url.rsplit("/", 1)[-1]
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_file():
            raise ConfigError(
                f"metrics.raft_weights={given}: no such file. It must be {name}, from {url}"
            )
        return given
    cached = Path(torch.hub.get_dir()) / "checkpoints" / name
    if cached.is_file():
        return cached
    raise ConfigError(
        f"the RAFT weights {name} for the warping error are not available and are never "
        f"downloaded at run time. Download {url} (on a machine with internet) and either put it "
        f"at {cached} or pass metrics.raft_weights=/path/to/{name}"
    )


class RaftFlow(nn.Module):
    """Optical flow ``F`` from ``first`` to ``second`` (``first(x) ≈ second(x + F(x))``), images
    in [-1, 1] of any size: resized to multiples of 8 of at least 128 pixels for RAFT, the flow
    resized and rescaled back."""

    def __init__(self, weights: str | Path | None = None, model: str = "small") -> None:
        super().__init__()
        path = resolve_raft_weights(weights, model)
        self.raft = RAFT_MODELS[model][0](weights=None, progress=False)
        self.raft.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.raft.eval().requires_grad_(False)

    @torch.no_grad()
    def forward(self, first: Tensor, second: Tensor) -> Tensor:
        height, width = first.shape[-2:]
        size = [max(_MIN_FLOW_SIDE, 8 * math.ceil(side / 8)) for side in (height, width)]
        pair = [
            F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            for x in (first, second)
        ]
        flow = self.raft(*pair)[-1]
        flow = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
        scale = torch.tensor([width / size[1], height / size[0]], device=flow.device)
        return flow * scale.view(1, 2, 1, 1)


def warp(images: Tensor, flow: Tensor) -> Tensor:
    """``images`` sampled at ``x + flow(x)`` (bilinear; outside the picture: the border)."""
    _, _, height, width = images.shape
    ys, xs = torch.meshgrid(
        torch.arange(height, device=flow.device, dtype=flow.dtype),
        torch.arange(width, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    x = (xs + flow[:, 0]) / max(width - 1, 1) * 2 - 1
    y = (ys + flow[:, 1]) / max(height - 1, 1) * 2 - 1
    grid = torch.stack([x, y], dim=-1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


def consistent(backward: Tensor, forward: Tensor) -> Tensor:
    """Where the backward flow (t+1 to t) and the forward flow (t to t+1) agree: (N, 1, H, W)."""
    forward_there = warp(forward, backward)
    mismatch = (backward + forward_there).square().sum(1, keepdim=True)
    magnitude = backward.square().sum(1, keepdim=True) + forward_there.square().sum(1, keepdim=True)
    return (mismatch < 0.01 * magnitude + 0.5).float()


def clip_warping_error(inputs: Tensor, outputs: Tensor, flow: nn.Module) -> float:
    """The warping error of one clip: input frames ``T x C x H x W`` (their motion) and output
    frames, in [-1, 1]; the mean over consecutive pairs of the mean absolute difference, in
    [0, 1] intensity, between output t+1 and output t warped to it, over consistent pixels."""
    if len(inputs) < 2:
        return 0.0
    before, after = inputs[:-1], inputs[1:]
    backward, forward = flow(after, before), flow(before, after)
    mask = consistent(backward, forward)
    difference = (outputs[1:] - warp(outputs[:-1], backward)).abs() / 2
    per_pair = (difference * mask).sum((1, 2, 3)) / (
        mask.sum((1, 2, 3)) * outputs.shape[1]
    ).clamp_min(1)
    return float(per_pair.mean())

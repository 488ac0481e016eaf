"""CUT's feature projection: sample patch positions, project each with a small MLP, L2-normalise.

This is the authors' ``PatchSampleF`` (``netF=mlp_sample``), except that the heads are built
eagerly in the constructor from known channel counts rather than lazily at the first forward, so
they exist (and can be given to an optimiser and moved to a device) before training starts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

_EPS = 1e-7  # the authors' Normalize: x / (||x|| + 1e-7)


def l2_normalize(x: Tensor) -> Tensor:
    """Each row divided by its L2 norm (plus 1e-7, as the authors' ``Normalize``)."""
    return x / (x.norm(p=2, dim=1, keepdim=True) + _EPS)


class PatchSampleMLP(nn.Module):
    """One head per feature layer: ``Linear(C, nc) - ReLU - Linear(nc, nc)``, then L2 norm.

    Args:
        in_channels: channel count of each feature layer, in order (``mlp_<i>`` gets ``C_i``).
        nc: width of the heads (the authors' ``netF_nc``, 256).
        use_mlp: False samples and normalises the raw features (the authors' ``netF=sample``).
    """

    def __init__(self, in_channels: Sequence[int], nc: int = 256, use_mlp: bool = True) -> None:
        super().__init__()
        self.in_channels = [int(c) for c in in_channels]
        self.nc = nc
        self.use_mlp = use_mlp
        if use_mlp:
            for index, channels in enumerate(self.in_channels):
                head = nn.Sequential(nn.Linear(channels, nc), nn.ReLU(), nn.Linear(nc, nc))
                self.add_module(f"mlp_{index}", head)  # the authors' names: mlp_0, mlp_1, ...

    def forward(
        self,
        features: Sequence[Tensor],
        num_patches: int = 256,
        patch_ids: Sequence[Tensor] | None = None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Sample and project ``features`` (each ``B x C_i x H_i x W_i``).

        For each layer, ``num_patches`` positions (all of them if the map is smaller) are drawn
        without replacement, the same positions for every image of the batch, unless
        ``patch_ids`` gives them (to sample the query features where the keys were sampled).

        Returns:
            per layer, a ``(B * P) x nc`` tensor of unit rows ordered image by image (the P
            patches of image 0 first), and the positions used.
        """
        if len(features) != len(self.in_channels):
            raise ValueError(f"got {len(features)} feature maps for {len(self.in_channels)} heads")
        samples, ids = [], []
        for index, feature in enumerate(features):
            flat = feature.permute(0, 2, 3, 1).flatten(1, 2)  # B x (H W) x C
            if patch_ids is None:
                positions = torch.randperm(flat.shape[1], device=feature.device)
                positions = positions[: min(num_patches, flat.shape[1])]
            else:
                positions = patch_ids[index]
            x = flat[:, positions, :].flatten(0, 1)  # (B P) x C
            if self.use_mlp:
                x = getattr(self, f"mlp_{index}")(x)
            samples.append(l2_normalize(x))
            ids.append(positions)
        return samples, ids

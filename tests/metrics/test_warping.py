"""The warping error: outputs that move with the input's motion have none; flicker has some."""

import pytest
import torch

from unpaired.errors import ConfigError
from unpaired.metrics.warping import clip_warping_error, resolve_raft_weights, warp


class ShiftFlow(torch.nn.Module):
    """The exact flow of frames that move right by ``step`` pixels per frame."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        # from later to earlier frames the content is ``step`` pixels to the left
        direction = -1.0 if first.mean() > second.mean() else 1.0  # frames brighten over time
        flow = torch.zeros(first.shape[0], 2, *first.shape[-2:])
        flow[:, 0] = direction * self.step
        return flow


def moving_clip(frames: int = 4, step: int = 2) -> torch.Tensor:
    pattern = torch.rand(1, 3, 16, 40)
    clip = [pattern[..., 10 - step * t : 26 - step * t] + 0.01 * t for t in range(frames)]
    return torch.cat(clip) * 2 - 1


def test_warp_moves_images_along_the_flow():
    images = torch.arange(16.0).view(1, 1, 4, 4)
    flow = torch.zeros(1, 2, 4, 4)
    flow[:, 0] = 1  # sample one pixel to the right
    assert torch.equal(warp(images, flow)[0, 0, :, :3], images[0, 0, :, 1:])


def test_outputs_that_follow_the_motion_have_a_small_warping_error_and_flicker_a_large_one():
    torch.manual_seed(0)
    inputs = moving_clip()
    flow = ShiftFlow(2)
    steady = clip_warping_error(inputs, inputs, flow)
    flicker = inputs.clone()
    flicker[1::2] += 0.4
    assert steady < 0.06  # the 2 columns entering at the border, and the brightening
    assert clip_warping_error(inputs, flicker, flow) > steady + 0.1


def test_missing_raft_weights_name_the_file_and_the_url(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(ConfigError, match=r"raft_small_C_T_V2-01064c6d\.pth.*never downloaded"):
        resolve_raft_weights(None)
    cached = tmp_path / "checkpoints" / "raft_small_C_T_V2-01064c6d.pth"
    cached.parent.mkdir()
    cached.write_bytes(b"")
    assert resolve_raft_weights(None) == cached

"""The authors' face-landmark network (StarGAN v2's CelebA-HQ masks): its size against theirs layer
by layer, reading their ``wing.ckpt`` (tests write files of its layout, with random weights),
the errors for a missing or wrong file, and the masks' form. Its outputs against theirs are in
test_golden_outputs.py (``stargan_v2/fan``, ``stargan_v2/face_masks``)."""

from pathlib import Path

import pytest
import torch
from torch import nn

from unpaired.errors import CheckpointError, ConfigError
from unpaired.nn.face_landmarks import FAN, WING_FILE, WING_URL, face_masks, shift_rows


def conv_block(inputs: int, outputs: int) -> int:
    """Their ConvBlock: three BN-ReLU-3x3 convs without bias (to half, a quarter, a quarter of
    ``outputs``), and a BN-ReLU-1x1 projection when the widths differ."""
    half, quarter = outputs // 2, outputs // 4
    convs = 9 * (inputs * half + half * quarter + quarter * quarter)
    norms = 2 * (inputs + half + quarter)
    projection = 2 * inputs + inputs * outputs if inputs != outputs else 0
    return convs + norms + projection


def test_parameter_count_is_the_authors_layer_by_layer() -> None:
    """6,333,603, as their ``FAN()`` reports (core/wing.py, counted in their code)."""
    stem = (3 + 3) * 64 * 7 * 7 + 64 + 2 * 64  # CoordConv (x, y, r appended) 7x7/2, BN
    stem += conv_block(64, 128) + conv_block(128, 128) + conv_block(128, 256)
    hourglass = (256 + 3) * 256 + 256 + 13 * conv_block(256, 256)  # CoordConv 1x1, 4 levels
    head = conv_block(256, 256) + 256 * 256 + 256 + 2 * 256 + 256 * 99 + 99
    fan = FAN("random")
    assert sum(p.numel() for p in fan.parameters()) == stem + hourglass + head == 6_333_603
    assert sum(p.numel() for p in fan.m0.parameters()) == hourglass


def test_wing_ckpt_weights_are_loaded_and_the_network_stays_frozen_in_eval(
    wing_file: tuple[Path, dict[str, torch.Tensor]],
) -> None:
    path, state = wing_file
    fan = FAN(path)
    for key, value in fan.state_dict().items():
        assert torch.equal(value, state[key]), key
    nn.Sequential(fan).train()
    assert not fan.training and not any(m.training for m in fan.modules())
    assert not any(p.requires_grad for p in fan.parameters())


def test_the_hub_cache_is_read_when_no_file_is_named(
    tmp_path: Path, monkeypatch, wing_file: tuple[Path, dict[str, torch.Tensor]]
) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    path, state = wing_file
    path.rename(tmp_path / "hub" / "checkpoints" / WING_FILE)
    assert torch.equal(FAN().l0.weight, state["l0.weight"])


def test_a_missing_or_wrong_file_gets_one_error_naming_it_and_the_fix(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ConfigError) as missing:
        FAN()
    message = str(missing.value)
    assert WING_URL in message and "never downloaded" in message
    assert str(tmp_path / "hub" / "checkpoints" / WING_FILE) in message
    assert "model.fan_weights=/path/to/wing.ckpt" in message
    with pytest.raises(ConfigError, match=r"model.fan_weights=.*nowhere.ckpt: no such file"):
        FAN(tmp_path / "nowhere.ckpt")
    partial = {k: v for k, v in FAN("random").state_dict().items() if not k.startswith("l0.")}
    torch.save({"state_dict": partial}, tmp_path / "partial.ckpt")
    with pytest.raises(
        CheckpointError, match=r"2 missing and 0 reshaped weights \(l0.weight, l0.bias"
    ):
        FAN(tmp_path / "partial.ckpt")
    torch.save({"G": torch.zeros(1)}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match=r"other\.ckpt is not the authors' wing\.ckpt"):
        FAN(tmp_path / "other.ckpt")


def test_masks_are_two_256_pixel_maps_in_unit_range_for_any_image_size() -> None:
    torch.manual_seed(0)
    fan = FAN("random")
    for size in (64, 300):
        face, inner = face_masks(fan, torch.rand(2, 3, size, size) * 2 - 1)
        assert face.shape == inner.shape == (2, 1, 256, 256)
        assert face.min() >= 0 and face.max() <= 1 and inner.min() >= 0 and inner.max() <= 1


def test_shift_moves_rows_up_for_positive_pixels_and_wraps_around() -> None:
    rows = torch.arange(5.0).view(1, 1, 5, 1)
    assert shift_rows(rows, 2).flatten().tolist() == [2, 3, 4, 0, 1]
    assert shift_rows(rows, -1).flatten().tolist() == [4, 0, 1, 2, 3]

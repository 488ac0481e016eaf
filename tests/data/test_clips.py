"""Clips as data: frame folders, video files and the authors' triplets, windows of k frames."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.data.clip_datamodule import SyntheticVideoDataModule
from unpaired.data.clips import ClipDataset
from unpaired.data.transforms import build_transform
from unpaired.data.video import write_video
from unpaired.errors import BadImageError, DataError

TRAIN = build_transform("crop", load_size=16, crop_size=12, flip=True, train=True)
TEST = build_transform("resize_and_crop", load_size=16, crop_size=16, flip=False, train=False)


def frames_of_one_scene(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One random 16x16 picture, a little brighter at every frame (frame t: + 10 t)."""
    base = rng.integers(0, 150, (16, 16, 3)).astype(np.uint8)
    return [base + np.uint8(10 * t) for t in range(count)]


def write_frame_clips(folder: Path, lengths: list[int], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for index, length in enumerate(lengths):
        for t, frame in enumerate(frames_of_one_scene(length, rng)):
            path = folder / f"clip{index}" / f"{t + 1:06d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(frame).save(path)


def test_windows_of_frame_folders_share_one_crop_and_flip(tmp_path):
    write_frame_clips(tmp_path / "trainA", [5, 4])
    write_frame_clips(tmp_path / "trainB", [3], seed=1)
    dataset = ClipDataset(tmp_path, "train", TRAIN, frames=3, seed=0)
    assert len(dataset) == 3 + 2  # windows of A (the larger domain): 5 - 2 and 4 - 2
    for index in range(len(dataset)):
        item = dataset[index]
        assert item["A"].shape == (3, 3, 12, 12) and item["B"].shape == (3, 3, 12, 12)
        window = item["A"]
        # frames differ by their brightness only: one crop and one flip for the whole window
        step = 2 * 10 / 255
        torch.testing.assert_close(window[1] - window[0], torch.full_like(window[0], step))
        torch.testing.assert_close(window[2] - window[1], torch.full_like(window[0], step))
    starts = sorted((dataset[i]["A_path"][-5:], dataset[i]["A_start"]) for i in range(5))
    assert starts == [("clip0", 0), ("clip0", 1), ("clip0", 2), ("clip1", 0), ("clip1", 1)]


def test_clips_shorter_than_a_window_are_left_out_and_none_left_is_an_error(tmp_path, caplog):
    write_frame_clips(tmp_path / "trainA", [2, 3])
    write_frame_clips(tmp_path / "trainB", [2])
    with pytest.raises(DataError, match="no clip of at least 3 frames"):
        ClipDataset(tmp_path, "train", TRAIN, frames=3)
    assert "leaving out 1 clips" in caplog.text


def test_a_frame_that_does_not_decode_is_left_out_or_stops_the_run(tmp_path, caplog):
    write_frame_clips(tmp_path / "trainA", [4])
    write_frame_clips(tmp_path / "trainB", [3])
    (tmp_path / "trainA" / "clip0" / "000002.png").write_bytes(b"not a png")
    dataset = ClipDataset(tmp_path, "train", TRAIN, frames=3)
    assert dataset.clips["A"][0].length == 3
    assert "cannot be decoded" in caplog.text
    with pytest.raises(BadImageError, match=r"000002\.png"):
        ClipDataset(tmp_path, "train", TRAIN, frames=3, on_bad_image="error")


def test_video_files_are_clips(tmp_path):
    rng = np.random.default_rng(0)
    for domain, length in (("A", 6), ("B", 4)):
        frames = np.stack(frames_of_one_scene(length, rng))
        write_video(tmp_path / f"train{domain}" / "clip.mp4", frames, fps=10)
    (tmp_path / "trainA" / "broken.mp4").write_bytes(b"not a video")
    dataset = ClipDataset(tmp_path, "train", TEST, frames=3)
    assert [clip.kind for clip in dataset.clips["A"]] == ["video"]
    assert len(dataset) == 4
    window = dataset[3]["A"]
    assert window.shape == (3, 3, 16, 16)
    brightness = window.mean(dim=(1, 2, 3))
    assert (brightness.diff() > 0).all()  # frames 3, 4, 5 in order


def test_the_authors_triplets_load_as_windows_of_three(tmp_path):
    for domain in ("A", "B"):
        strip = np.zeros((16, 48, 3), np.uint8)
        for t, tone in enumerate((0, 120, 240)):
            strip[:, 16 * t : 16 * (t + 1)] = tone
        (tmp_path / f"train{domain}").mkdir()
        Image.fromarray(strip).save(tmp_path / f"train{domain}" / "0001.png")
    dataset = ClipDataset(tmp_path, "train", TEST, frames=3)
    window = dataset[0]["A"]
    tones = [round(float(frame.mean() + 1) / 2 * 255) for frame in window]
    assert tones == [0, 120, 240]


def test_the_synthetic_video_set_holds_moving_shapes_and_their_true_translations(tmp_path):
    module = SyntheticVideoDataModule(
        str(tmp_path / "video"), image_size=16, n_train=2, n_test=2, clip_frames=5,
        load_size=16, crop_size=16, num_workers=0,
    )  # fmt: skip
    module.prepare_data()
    module.setup("fit")
    item = module.val_dataset[0]
    assert item["A"].shape == item["target_B"].shape == (3, 3, 16, 16)
    # a truth is the other style of the same frame: background cream in A, navy in B
    assert item["A"][:, :, 0, 0].mean() > 0.8 and item["target_B"][:, :, 0, 0].mean() < -0.6
    moved = [not torch.equal(a, b) for a, b in zip(item["A"][:-1], item["A"][1:], strict=True)]
    assert any(moved)
    truths = module.val_dataset.images_of("A")
    assert len(truths) == 2 * 5 and truths.has_truth_for("B")
    assert truths.stem(6) == "clip0001_000001"
    again = SyntheticVideoDataModule(str(tmp_path / "again"), image_size=16, n_train=2,
                                     n_test=2, clip_frames=5)  # fmt: skip
    again.prepare_data()
    first = sorted((tmp_path / "video").rglob("*.png"))
    second = sorted((tmp_path / "again").rglob("*.png"))
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_a_frame_broken_during_the_run_gives_the_next_window_or_stops_it(tmp_path, caplog):
    write_frame_clips(tmp_path / "trainA", [3, 3])
    write_frame_clips(tmp_path / "trainB", [3])
    dataset = ClipDataset(tmp_path, "train", TEST, frames=3)
    strict = ClipDataset(tmp_path, "train", TEST, frames=3, on_bad_image="error")
    (tmp_path / "trainA" / "clip0" / "000002.png").write_bytes(b"broken since")
    assert dataset[0]["A_path"].endswith("clip1")
    assert "Using the next window" in caplog.text
    with pytest.raises(BadImageError, match=r"000002\.png"):
        strict[0]

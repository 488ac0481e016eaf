"""unpaired-translate: a folder of images of several sizes, translated at their own sizes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.translate import same_size_batches, translate
from unpaired.inference import load_translator

SIZES = {"a.jpg": (33, 45), "sub/b.png": (33, 45), "sub/deeper/c.png": (20, 21)}


def write_images(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for name, (height, width) in SIZES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


def test_translates_a_folder_keeping_names_sub_folders_and_sizes(
    tiny_checkpoint: Path, tmp_path: Path, run_cli: Callable
) -> None:
    write_images(tmp_path / "in")
    result = run_cli(
        "translate",
        [f"ckpt={tiny_checkpoint}", "input=in", "output=out", "direction=BtoA", "num_workers=0"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*")
    )
    assert written == ["a.png", "sub/b.png", "sub/deeper/c.png"]  # no log or config beside them
    translator = load_translator(tiny_checkpoint, "BtoA")
    source = np.asarray(Image.open(tmp_path / "in/sub/deeper/c.png"), dtype=np.float32)
    images = torch.from_numpy(source).permute(2, 0, 1)[None] / 127.5 - 1
    truth = ((translator(images)[0] + 1) / 2 * 255 + 0.5).clamp(0, 255).byte().permute(1, 2, 0)
    for name, (height, width) in SIZES.items():
        assert Image.open(tmp_path / "out" / Path(name).with_suffix(".png")).size == (width, height)
    result_c = np.asarray(Image.open(tmp_path / "out/sub/deeper/c.png")).astype(int)
    # the command's process and this one may sum in another order (threads): a value on a
    # rounding edge may land one step away; anything else (another direction) is far off
    assert np.abs(result_c - truth.numpy().astype(int)).max() <= 1


def test_a_missing_model_file_is_one_line_and_status_2(
    tmp_path: Path, compose_train: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    write_images(tmp_path / "in")
    cfg = compose_train(
        ["ckpt=gone.ckpt", f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}"],
        config_name="translate",
    )
    with pytest.raises(SystemExit) as stop:
        run_reporting_user_errors(translate, cfg)
    assert stop.value.code == 2
    assert "model file gone.ckpt not found" in caplog.text


def test_the_inference_options_reach_the_translator(
    tiny_checkpoint: Path, tmp_path: Path, compose_train: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    write_images(tmp_path / "in")
    paths = [f"ckpt={tiny_checkpoint}", f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}"]
    cfg = compose_train([*paths, "num_workers=0", "inference.precision=16"], "translate")
    with pytest.raises(SystemExit) as stop:
        run_reporting_user_errors(translate, cfg)
    assert stop.value.code == 2
    assert "inference.precision=16 is not one of 32, bf16" in caplog.text
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_batches_hold_one_size_and_at_most_batch_size_images() -> None:
    shapes = [(3, 4, 4), (3, 4, 4), (3, 8, 4), (3, 4, 4), (3, 4, 4), (3, 8, 4), (3, 4, 4)]
    items = [{"image": torch.zeros(shape), "index": i} for i, shape in enumerate(shapes)]
    batches = list(same_size_batches(items, batch_size=2))
    assert sorted(item["index"] for batch in batches for item in batch) == list(range(7))
    for batch in batches:
        assert len(batch) <= 2
        assert len({item["image"].shape for item in batch}) == 1
    assert [len(batch) for batch in batches].count(2) == 2  # the 4x4 images share batches


def test_a_video_becomes_a_video_of_the_same_frames_size_and_rate_or_a_folder_of_frames(
    tiny_checkpoint: Path, tmp_path: Path, run_cli: Callable
) -> None:
    from fractions import Fraction

    from unpaired.data.video import read_frames, video_info, write_video

    rng = np.random.default_rng(0)
    smooth = rng.integers(0, 256, (7, 4, 5, 3), dtype=np.uint8).repeat(7, 1).repeat(7, 2)
    write_video(tmp_path / "in.mp4", smooth[:, :27, :33], Fraction(30000, 1001))  # odd sides
    common = [f"ckpt={tiny_checkpoint}", "input=in.mp4", "batch_size=3", "num_workers=0"]
    result = run_cli("translate", [*common, "output=out.webm"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    info = video_info(tmp_path / "out.webm")
    assert (info.frames, info.width, info.height, info.fps) == (7, 33, 27, Fraction(30000, 1001))

    result = run_cli("translate", [*common, "output=frames"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    frames = sorted((tmp_path / "frames" / "in").glob("*.png"))
    assert [p.name for p in frames] == [f"{t:06d}.png" for t in range(7)]
    translator = load_translator(tiny_checkpoint, "AtoB")  # frame 3, translated alone
    decoded = torch.from_numpy(read_frames(tmp_path / "in.mp4")[3]).permute(2, 0, 1)[None]
    expected = (translator(decoded / 127.5 - 1)[0].permute(1, 2, 0) + 1) * 127.5
    written = np.asarray(Image.open(frames[3]), dtype=np.float32)
    assert np.abs(written - expected.numpy()).max() <= 1  # rounding
    result = run_cli(
        "translate",
        [f"ckpt={tiny_checkpoint}", "input=frames/in", "output=again.mp4", "fps=12"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    info = video_info(tmp_path / "again.mp4")
    assert (info.frames, info.width, info.height, info.fps) == (7, 33, 27, 12)

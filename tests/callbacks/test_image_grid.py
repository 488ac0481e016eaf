"""Image grids: one row per image, one column per visual, a header row naming each column."""

from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image
from torchvision.utils import save_image

from unpaired.callbacks.image_grid import (
    HEADER_HEIGHT,
    PADDING,
    ImageGrid,
    header_row,
    image_grid,
    with_truth,
)


def test_grid_has_one_row_per_image_and_one_column_per_visual():
    visuals = {
        "real_A": torch.full((3, 3, 8, 8), -1.0),
        "fake_B": torch.full((3, 3, 8, 8), 1.0),
        "gray": torch.zeros(3, 1, 8, 8),  # one channel is shown as gray
    }
    grid = image_grid(visuals, max_images=2)
    assert grid.shape == (3, HEADER_HEIGHT + 2 + 2 * (8 + 2), 2 + 3 * (8 + 2))
    assert grid.min() >= 0 and grid.max() <= 1
    body = grid[:, HEADER_HEIGHT:]
    top_left = body[:, 2:10, 2:10]
    next_column = body[:, 2:10, 12:20]
    assert top_left.max() == 0 and next_column.min() == 1  # [-1, 1] mapped to [0, 1]
    assert torch.allclose(body[:, 2:10, 22:30], torch.full((3, 8, 8), 0.5))


def test_clips_show_one_row_per_frame_of_each_clip():
    clip = torch.linspace(-1, 1, 3).view(1, 3, 1, 1, 1).expand(2, 3, 3, 8, 8)  # frame t: one tone
    grid = image_grid({"real_A": clip, "true_B": clip}, max_images=1)
    body = grid[:, HEADER_HEIGHT:]
    assert body.shape[1] == 2 + 3 * (8 + 2)  # the first clip's three frames, one a row
    tones = [float(body[0, 2 + row * 10 + 4, 6]) for row in range(3)]
    assert tones == [0.0, 0.5, 1.0]


def test_the_header_names_every_column_in_the_columns_order():
    tile = 40
    visuals = {name: torch.zeros(2, 3, tile, tile) for name in ("real_A", "fake_B", "rec_A")}
    header = image_grid(visuals, max_images=2)[:, :HEADER_HEIGHT]
    expected = ["real A", "fake B", "rec A"]
    for index, label in enumerate(expected):
        left = PADDING + index * (tile + PADDING)
        drawn = header[:, :, left : left + tile]
        alone = header_row([label], tile)[:, :, PADDING : PADDING + tile]
        assert drawn.max() > 0.5, f"column {index} has no label"
        assert torch.equal(drawn, alone), f"column {index} is not labelled {label!r}"
        for other in set(expected) - {label}:  # the labels differ, so the order is seen
            assert not torch.equal(drawn, header_row([other], tile)[:, :, PADDING:-PADDING])


def test_a_label_wider_than_its_column_is_shrunk_and_clipped_to_it():
    header = header_row(["a label far wider than eight pixels", "b"], tile_width=8)
    assert header.shape == (3, HEADER_HEIGHT, PADDING + 2 * (8 + PADDING))
    assert header[:, :, :PADDING].max() == 0  # nothing spills into the padding
    assert header[:, :, PADDING + 8 : 2 * PADDING + 8].max() == 0


def test_true_translations_follow_the_translations_they_are_the_truth_of():
    images = {name: torch.zeros(1, 3, 4, 4) for name in ("real_A", "fake_B", "real_B", "fake_A")}
    batch = {"A": 0, "target_A": torch.ones(1, 3, 4, 4), "target_B": torch.ones(1, 3, 4, 4)}
    shown = with_truth(images, batch)
    assert list(shown) == ["real_A", "fake_B", "true_B", "real_B", "fake_A", "true_A"]
    assert shown["true_B"] is batch["target_B"]
    assert list(with_truth({"real_A": images["real_A"]}, batch)) == ["real_A", "true_A", "true_B"]
    assert with_truth(images, {"A": torch.zeros(1)}) == images  # no truth, nothing added


def test_grid_png_is_a_viewable_image(tmp_path):
    grid = image_grid({"a": torch.rand(2, 3, 4, 4) * 2 - 1, "b": torch.rand(2, 3, 4, 4)}, 4)
    save_image(grid, tmp_path / "g.png")
    with Image.open(tmp_path / "g.png") as image:
        assert image.size == (2 + 2 * (4 + 2), HEADER_HEIGHT + 2 + 2 * (4 + 2))
        assert image.mode == "RGB"


def test_validation_grids_show_the_true_translations_beside_the_models(tmp_path):
    callback = ImageGrid(tmp_path, max_images=2)
    trainer = SimpleNamespace(
        sanity_checking=False, current_epoch=3, is_global_zero=True, loggers=[]
    )
    images = {name: torch.zeros(2, 3, 8, 8) for name in ("real_A", "fake_B", "real_B", "fake_A")}
    batch = {
        "A": images["real_A"],
        "target_B": torch.ones(2, 3, 8, 8),
        "target_A": torch.ones(2, 3, 8, 8),
    }
    callback.on_validation_batch_end(trainer, None, {"visuals": images}, batch, batch_idx=0)
    with Image.open(tmp_path / "val_epoch0003.png") as saved:
        grid = torch.from_numpy(np.array(saved.convert("RGB"))).permute(2, 0, 1).float() / 255
    expected = header_row(["real A", "fake B", "true B", "real B", "fake A", "true A"], 8)
    assert grid.shape[2] == expected.shape[2]  # six columns
    assert (grid[:, :HEADER_HEIGHT] - expected).abs().max() <= 1 / 255
    true_b = grid[:, HEADER_HEIGHT + 2 : HEADER_HEIGHT + 10, 2 + 2 * 10 : 10 + 2 * 10]
    assert true_b.min() == 1  # the truth (ones), not the model's zeros

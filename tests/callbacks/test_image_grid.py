import torch
from PIL import Image

from unpaired.callbacks.image_grid import image_grid


def test_grid_has_one_row_per_image_and_one_column_per_visual():
    visuals = {
        "real_A": torch.full((3, 3, 8, 8), -1.0),
        "fake_B": torch.full((3, 3, 8, 8), 1.0),
        "gray": torch.zeros(3, 1, 8, 8),  # one channel is shown as gray
    }
    grid = image_grid(visuals, max_images=2)
    assert grid.shape == (3, 2 + 2 * (8 + 2), 2 + 3 * (8 + 2))
    assert grid.min() >= 0 and grid.max() <= 1
    top_left = grid[:, 2:10, 2:10]
    next_column = grid[:, 2:10, 12:20]
    assert top_left.max() == 0 and next_column.min() == 1  # [-1, 1] mapped to [0, 1]
    assert torch.allclose(grid[:, 2:10, 22:30], torch.full((3, 8, 8), 0.5))


def test_grid_png_is_a_viewable_image(tmp_path):
    from torchvision.utils import save_image

    grid = image_grid({"a": torch.rand(2, 3, 4, 4) * 2 - 1, "b": torch.rand(2, 3, 4, 4)}, 4)
    save_image(grid, tmp_path / "g.png")
    with Image.open(tmp_path / "g.png") as image:
        assert image.size == (2 + 2 * (4 + 2), 2 + 2 * (4 + 2))
        assert image.mode == "RGB"

"""Any image size through generators that need multiples of 4 (ResNet) or 2**num_downs (U-Net)."""

import itertools

import pytest
import torch

from unpaired.data.padding import Padding, crop_padding, pad_to_multiple, padding_for, run_padded
from unpaired.nn.resnet import ResnetGenerator
from unpaired.nn.unet import UnetGenerator


def test_padding_splits_the_extra_pixels_evenly() -> None:
    assert padding_for(333, 500, 4) == Padding(left=0, right=0, top=1, bottom=2)
    assert padding_for(256, 256, 256) == Padding(0, 0, 0, 0)
    assert padding_for(100, 129, 256) == Padding(left=63, right=64, top=78, bottom=78)


@pytest.mark.parametrize(("height", "width", "multiple"), [(13, 22, 4), (5, 3, 16), (1, 7, 4)])
def test_pad_then_crop_gives_the_image_back(height: int, width: int, multiple: int) -> None:
    images = torch.rand(2, 3, height, width)
    padded, padding = pad_to_multiple(images, multiple)
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] >= height and padded.shape[-1] >= width
    assert torch.equal(crop_padding(padded, padding), images)


def test_padding_mirrors_the_image() -> None:
    row = torch.arange(5.0).view(1, 1, 1, 5)  # one row: 0 1 2 3 4, padded to 8 wide
    padded, padding = pad_to_multiple(row.expand(1, 1, 4, 5), 4)
    assert padding == Padding(left=1, right=2, top=0, bottom=0)
    assert padded[0, 0, 0].tolist() == [1, 0, 1, 2, 3, 4, 3, 2]


def test_padding_wider_than_the_image_keeps_mirroring() -> None:
    row = torch.tensor([[[[1.0, 2.0, 3.0]]]]).expand(1, 1, 2, 3)
    padded, _ = pad_to_multiple(row, 16)  # 13 extra pixels on a 3-pixel row
    assert padded.shape[-1] == 16
    assert set(padded.unique().tolist()) == {1.0, 2.0, 3.0}  # no zeros, nothing invented
    line = padded[0, 0, 0].tolist()
    assert all(abs(a - b) == 1 for a, b in itertools.pairwise(line))  # a smooth zigzag


@pytest.mark.parametrize("size", [(13, 22), (31, 17), (64, 64)])
def test_resnet_generator_returns_the_input_size(size: tuple[int, int]) -> None:
    generator = ResnetGenerator(ngf=4, n_blocks=1).eval()
    images = torch.rand(1, 3, *size) * 2 - 1
    with torch.no_grad():
        assert tuple(run_padded(generator, images).shape) == (1, 3, *size)


def test_resnet_generator_alone_changes_an_odd_size() -> None:
    """Why the padding is needed: the decoder rounds the size up to a multiple of 4."""
    with torch.no_grad():
        out = ResnetGenerator(ngf=4, n_blocks=1).eval()(torch.rand(1, 3, 13, 22))
    assert tuple(out.shape[-2:]) == (16, 24)


def test_unet_generator_takes_any_size() -> None:
    generator = UnetGenerator(num_downs=5, ngf=4).eval()
    assert generator.size_multiple == 32
    images = torch.rand(2, 3, 21, 45) * 2 - 1
    with torch.no_grad():
        with pytest.raises(RuntimeError):
            generator(images)  # skip connections of mismatched sizes
        assert tuple(run_padded(generator, images).shape) == (2, 3, 21, 45)


def test_no_padding_when_the_size_fits() -> None:
    generator = ResnetGenerator(ngf=4, n_blocks=1).eval()
    images = torch.rand(1, 3, 16, 20)
    with torch.no_grad():
        assert torch.equal(run_padded(generator, images), generator(images))

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from unpaired.data.transforms import PREPROCESS_OPTIONS, build_transform
from unpaired.errors import ConfigError


def _random_image(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def _half_black_half_white(size: int = 8) -> Image.Image:
    pixels = np.zeros((size, size, 3), dtype=np.uint8)
    pixels[:, size // 2 :] = 255
    return Image.fromarray(pixels, "RGB")


# (preprocess, load, crop) on a 50x30 (w x h) image -> expected (H, W)
CASES = [
    ("resize_and_crop", 40, 32, (32, 32)),
    ("crop", 40, 24, (24, 24)),
    ("scale_width", 40, 16, (24, 40)),  # height int(40 * 30 / 50) = 24
    ("scale_width", 40, 32, (32, 40)),  # height raised to crop_size
    ("scale_width_and_crop", 40, 16, (16, 16)),
    ("none", 40, 32, (32, 48)),  # 30 -> 32, 50 -> 48 (round half to even, as the authors)
    ("scale_shorter_and_center_crop", 40, 32, (32, 32)),
]


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(("preprocess", "load", "crop", "shape"), CASES)
def test_output_shape_and_range(
    preprocess: str, load: int, crop: int, shape: tuple[int, int], train: bool
) -> None:
    transform = build_transform(preprocess, load, crop, flip=True, train=train)
    out = transform(_random_image(50, 30))
    assert out.dtype == torch.float32
    if preprocess == "scale_width" and not train:  # the width goes to crop, not load, at test
        shape = (max(crop, int(crop * 30 / 50)), crop)
    assert tuple(out.shape) == (3, *shape)
    assert out.min() >= -1 and out.max() <= 1
    if train:  # (evaluation shrinks scale_width's noise image further, averaging the extremes)
        assert out.min() < -0.9 and out.max() > 0.9  # the full range is used, not [0, 1]


def test_every_option_is_covered() -> None:
    assert {case[0] for case in CASES} == set(PREPROCESS_OPTIONS)


@pytest.mark.parametrize("size", [(50, 30), (17, 63), (4, 4), (1, 1)])
def test_none_gives_multiples_of_4(size: tuple[int, int]) -> None:
    out = build_transform("none", 1, 1, flip=False, train=False)(_random_image(*size))
    assert out.shape[1] % 4 == 0 and out.shape[2] % 4 == 0
    assert out.shape[1] >= 4 and out.shape[2] >= 4


def test_scale_width_keeps_aspect_of_portrait_image() -> None:
    out = build_transform("scale_width", 20, 8, flip=False, train=True)(_random_image(40, 100))
    assert tuple(out.shape) == (3, 50, 20)


def test_test_images_are_resized_to_the_crop_and_kept_whole_as_the_authors_test() -> None:
    # the authors' test options set load_size to crop_size: no border is cut off at test time
    image = _random_image(64, 64)
    evaluation = build_transform("resize_and_crop", 72, 32, flip=False, train=False)
    whole = build_transform("resize_and_crop", 32, 32, flip=False, train=True)
    assert torch.equal(evaluation(image), whole(image))


def test_grayscale_output_has_one_channel() -> None:
    transform = build_transform("resize_and_crop", 20, 16, flip=True, train=True, channels=1)
    assert tuple(transform(_random_image(30, 30)).shape) == (1, 16, 16)


def test_values_map_0_255_to_minus_1_plus_1() -> None:
    out = build_transform("none", 8, 8, flip=False, train=False)(_half_black_half_white())
    assert torch.all(out[:, :, :4] == -1) and torch.all(out[:, :, 4:] == 1)


def test_flip_happens_sometimes_in_training() -> None:
    torch.manual_seed(0)
    transform = build_transform("none", 8, 8, flip=True, train=True)
    left_columns = [transform(_half_black_half_white())[0, 0, 0].item() for _ in range(32)]
    assert set(left_columns) == {-1.0, 1.0}


@pytest.mark.parametrize("preprocess", PREPROCESS_OPTIONS)
def test_never_flips_when_flip_is_off_or_in_evaluation(preprocess: str) -> None:
    torch.manual_seed(0)
    for flip, train in [(True, False), (False, True)]:
        transform = build_transform(preprocess, 8, 8, flip=flip, train=train)
        for _ in range(16):
            out = transform(_half_black_half_white())
            assert out[0, 0, 0] == -1 and out[0, 0, -1] == 1


def test_evaluation_crop_is_the_centre_and_deterministic() -> None:
    image = _random_image(40, 30)
    transform = build_transform("crop", 40, 20, flip=True, train=False)
    reference = T.Compose([T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    expected = reference(image.crop((10, 5, 30, 25)))  # bit for bit torchvision's values
    for _ in range(3):
        out = transform(image)
        assert out.is_contiguous() and torch.equal(out, expected)


def test_resize_and_crop_matches_the_authors_pipeline() -> None:
    """Same crop and flip as torchvision's PIL pipeline; only the resize's rounding differs."""
    authors = T.Compose(
        [
            T.Resize([40, 40], T.InterpolationMode.BICUBIC),
            T.RandomCrop(32),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize([0.5] * 3, [0.5] * 3),
        ]
    )
    ours = build_transform("resize_and_crop", 40, 32, flip=True, train=True)
    image = _random_image(50, 30)
    for seed in range(4):  # both draw top, left, then the flip from the torch RNG
        torch.manual_seed(seed)
        expected = authors(image)
        torch.manual_seed(seed)
        difference = (ours(image) - expected).abs() * 127.5  # in 8-bit levels
        assert difference.max() <= 2.01 and (difference > 0.5).float().mean() < 0.02


@pytest.mark.parametrize("size", [(50, 30), (30, 50)])
def test_scale_shorter_and_center_crop_matches_the_fast_neural_style_examples(
    size: tuple[int, int],
) -> None:
    """pytorch/examples' ``fast_neural_style`` training transform: ``Resize(size)`` (shorter
    side, bilinear), ``CenterCrop(size)``, no flip; centred in training too."""
    examples = T.Compose(
        [T.Resize(40), T.CenterCrop(32), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)]
    )
    image = _random_image(*size)
    expected = examples(image)
    for train in (True, False):
        ours = build_transform("scale_shorter_and_center_crop", 40, 32, flip=False, train=train)
        if not train:  # evaluation resizes to the crop, as every option here
            examples_eval = T.Compose([T.Resize(32), T.CenterCrop(32), T.ToTensor()])
            expected = examples_eval(image) * 2 - 1
        difference = (ours(image) - expected).abs() * 127.5  # in 8-bit levels
        assert difference.max() <= 2.01 and (difference > 0.5).float().mean() < 0.05


def test_training_crop_is_random() -> None:
    torch.manual_seed(0)
    image = _random_image(40, 30)
    transform = build_transform("crop", 40, 20, flip=False, train=True)
    crops = {transform(image).sum().item() for _ in range(8)}
    assert len(crops) > 1


def test_unknown_preprocess_lists_the_options() -> None:
    with pytest.raises(ConfigError, match=r"data\.preprocess='resize'") as error:
        build_transform("resize", 286, 256, flip=True, train=True)
    for option in PREPROCESS_OPTIONS:
        assert option in str(error.value)


@pytest.mark.parametrize(
    "preprocess", ["resize_and_crop", "scale_width_and_crop", "scale_shorter_and_center_crop"]
)
def test_crop_larger_than_load_is_a_config_error(preprocess: str) -> None:
    with pytest.raises(ConfigError, match=r"data.crop_size=300 .*data.load_size=286"):
        build_transform(preprocess, 286, 300, flip=True, train=True)


def test_image_smaller_than_the_crop_is_resized_up() -> None:
    transform = build_transform("crop", 286, 24, flip=False, train=False)
    assert transform.min_input_side == 24
    stripes = np.zeros((10, 20, 3), dtype=np.uint8)
    stripes[:, 10:] = 255  # left half black, right half white
    out = transform(Image.fromarray(stripes))  # 20x10 -> 48x24 -> centre crop 24x24
    assert tuple(out.shape) == (3, 24, 24)
    assert out[:, :, 0].max() < -0.9 and out[:, :, -1].min() > 0.9


def test_only_crop_resizes_images_up() -> None:
    for preprocess in PREPROCESS_OPTIONS:
        expected = 16 if preprocess == "crop" else 0
        assert build_transform(preprocess, 20, 16, flip=True, train=True).min_input_side == expected


def test_transform_pickles_for_spawned_workers() -> None:
    transform = build_transform("scale_width_and_crop", 20, 16, flip=True, train=True)
    restored = pickle.loads(pickle.dumps(transform))
    assert tuple(restored(_random_image(30, 30)).shape) == (3, 16, 16)

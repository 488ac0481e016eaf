"""StarGAN v2's data: the three-style synthetic set and its truths, the authors' reference
sampling and training transform, the authors' val/ split."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.data import synthetic_styles
from unpaired.data.stargan_v2 import (
    BilinearResize,
    StarGANv2DataModule,
    StyledSyntheticDataModule,
    authors_train_transform,
)
from unpaired.data.synthetic import SyntheticSpec
from unpaired.data.transforms import ImageTransform
from unpaired.errors import ConfigError, DataError
from unpaired.evaluation.images import to_uint8

SPEC = SyntheticSpec(image_size=16, n_train=6, n_test=3, seed=0)


def pixels_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def domain_of(image: torch.Tensor, dataset) -> str:
    """The domain of the training image whose mean colour is nearest the image's: a crop keeps
    at least 80% of an image, so its mean colour stays near its own image's, while the styles'
    backgrounds and palettes keep the domains' mean colours apart. (A median colour fails: a
    crop can be mostly one large shape.)"""
    means, domains = [], []
    for domain in dataset.domains:
        for path in dataset.images[domain].paths:
            pixels = torch.tensor(pixels_of(path), dtype=torch.float32) / 127.5 - 1
            means.append(pixels.flatten(0, 1).mean(0))
            domains.append(domain)
    distances = (torch.stack(means) - image.flatten(1).mean(1)).abs().sum(1)
    return domains[int(distances.argmin())]


def test_the_test_scenes_are_one_set_of_scenes_in_three_styles(tmp_path) -> None:
    root = tmp_path / "styles"
    synthetic_styles.ensure(root, SPEC)
    domains = list(synthetic_styles.STYLES)
    assert sorted(p.name for p in (root / "test").iterdir()) == sorted(domains)
    for index in range(3):
        images = [pixels_of(root / "test" / d / f"{index:04d}.png") for d in domains]
        # the styles differ in colour, the scenes coincide: the same shapes cover the same pixels
        backgrounds = [tuple(image[0, 0]) for image in images]
        assert len(set(backgrounds)) == 3
        masks = [np.any(image != image[0, 0], axis=-1) for image in images]
        assert np.array_equal(masks[0], masks[2])  # warm and violet draw no outline
    # training scenes are unpaired: domain i draws its own scenes
    warm, cool = (pixels_of(root / "train" / d / "0000.png") for d in ("warm", "cool"))
    assert not np.array_equal(np.any(warm != warm[0, 0], -1), np.any(cool != cool[0, 0], -1))
    synthetic_styles.ensure(root, SPEC)  # a second call finds the set
    with pytest.raises(DataError, match="generated with"):
        synthetic_styles.ensure(root, SyntheticSpec(image_size=16, n_train=7, n_test=3))


def test_validation_items_hold_every_translations_truth(tmp_path) -> None:
    data = StyledSyntheticDataModule(
        str(tmp_path / "styles"), image_size=16, n_train=6, n_test=3, num_workers=0
    )
    data.prepare_data()
    data.setup("fit")
    assert data.has_ground_truth
    item = data.val_dataset[1]
    for source in ("warm", "cool", "violet"):
        for target in ("warm", "cool", "violet"):
            if source != target:
                assert torch.equal(item[f"target_{source}_to_{target}"], item[target])
    assert item["warm_path"].endswith("test/warm/0001.png")


def test_the_images_of_each_domain_hold_their_truths_in_every_other_domain(tmp_path) -> None:
    data = StyledSyntheticDataModule(
        str(tmp_path / "styles"), image_size=16, n_train=1, n_test=3, num_workers=0
    )
    data.prepare_data()
    data.setup("validate")
    warm = data.val_dataset.images_of("warm")
    assert not warm.has_truth_for("warm")
    for target in ("cool", "violet"):
        assert warm.has_truth_for(target)
        for index in range(3):
            truth = to_uint8(warm.truth(index, target)).permute(1, 2, 0).numpy()
            generated = pixels_of(tmp_path / "styles" / "test" / target / f"{index:04d}.png")
            assert np.array_equal(truth, generated)  # the truth is the target's image i


def test_training_items_draw_two_references_of_one_domain_balanced_and_seeded(tmp_path) -> None:
    data = StyledSyntheticDataModule(
        str(tmp_path / "styles"), image_size=16, n_train=6, n_test=3, num_workers=0
    )
    data.prepare_data()
    data.setup("fit")
    dataset = data.train_dataset
    assert dataset.domains == ("cool", "violet", "warm")  # the folders, sorted
    assert len(dataset) == 18  # every image of every domain once an epoch
    items = [dataset[i] for i in range(len(dataset))]
    assert all(torch.equal(dataset[i]["reference2"], items[i]["reference2"]) for i in range(18))
    first = items[0]
    assert set(first) == {"source", "source_domain", "reference", "reference2", "reference_domain"}
    assert first["source"].shape == (3, 16, 16)
    assert first["source"].min() >= -1 and first["source"].max() <= 1
    # every image comes from the domain it is labelled with: its background colour tells it
    for item in items:
        for image, label in (
            (item["source"], item["source_domain"]),
            (item["reference"], item["reference_domain"]),
            (item["reference2"], item["reference_domain"]),
        ):
            assert domain_of(image, dataset) == dataset.domains[int(label)]
    domains = torch.stack([item["source_domain"] for item in items])
    assert set(domains.tolist()) == {0, 1, 2}
    dataset.set_epoch(1)
    assert not torch.equal(dataset[0]["source"], first["source"]) or not torch.equal(
        dataset[0]["reference"], first["reference"]
    )


def test_the_authors_transform_crops_sometimes_resizes_and_scales(tmp_path) -> None:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 30, 3), np.uint8))
    resized = authors_train_transform(20, randcrop_prob=0.0)
    cropped = authors_train_transform(20, randcrop_prob=1.0)
    plain = ImageTransform("RGB", [BilinearResize(20)])(image)  # resize alone, no flip
    for seed in range(6):
        torch.manual_seed(seed)
        out = resized(image)
        assert out.shape == (3, 20, 20) and out.min() >= -1 and out.max() <= 1
        assert torch.equal(out, plain) or torch.equal(out, plain.flip(-1))
        torch.manual_seed(seed)
        out = cropped(image)
        assert out.shape == (3, 20, 20)
        assert not torch.equal(out, plain) and not torch.equal(out, plain.flip(-1))
    with pytest.raises(ConfigError, match="randcrop_prob"):
        authors_train_transform(20, randcrop_prob=1.5)


def test_the_evaluation_split_may_be_the_authors_val_folder(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for domain in ("cat", "dog"):
            folder = tmp_path / "afhq" / split / domain
            folder.mkdir(parents=True)
            for i in range(2):
                pixels_ = rng.integers(0, 256, (8, 8, 3), np.uint8)
                Image.fromarray(pixels_).save(folder / f"{i}.png")
    data = StarGANv2DataModule(
        str(tmp_path / "afhq"), img_size=16, test_split="val", num_workers=0, domains=["cat", "dog"]
    )
    data.setup("fit")
    assert data.val_dataset.images["dog"].folder == tmp_path / "afhq" / "val" / "dog"
    assert data.val_dataset[0]["cat"].shape == (3, 16, 16)

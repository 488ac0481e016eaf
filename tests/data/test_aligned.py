"""Aligned (A | B side by side) data for pix2pix, and the paired version of the synthetic set."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from unpaired.data import synthetic
from unpaired.data.aligned import AlignedDataModule, AlignedDataset, SyntheticAlignedDataModule
from unpaired.data.transforms import build_transform
from unpaired.errors import BadImageError, ConfigError, DataError

CONF_DIR = Path(__file__).parents[2] / "conf" / "data"
SMALL = dict(load_size=20, crop_size=16, num_workers=0, val_batch_size=2)


def write_pair(path: Path, left: np.ndarray, right: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([left, right], axis=1), "RGB").save(path)


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (12, 8)) -> np.ndarray:
    """An image of ``size`` = (width, height) in one colour."""
    return np.full((size[1], size[0], 3), colour, dtype=np.uint8)


def make_pairs(root: Path, n_train: int = 3, n_test: int = 2, same_halves: bool = False) -> Path:
    rng = np.random.default_rng(0)
    for phase, count in (("train", n_train), ("test", n_test)):
        for index in range(count):
            left = rng.integers(0, 256, (18, 24, 3), dtype=np.uint8)
            right = left if same_halves else rng.integers(0, 256, (18, 24, 3), dtype=np.uint8)
            write_pair(root / phase / f"{index:04d}.png", left, right)
    return root


def plain_transform(train: bool = False, flip: bool = False):
    return build_transform("none", load_size=1, crop_size=1, flip=flip, train=train)


@pytest.mark.parametrize(("direction", "a", "b"), [("AtoB", 0, 2), ("BtoA", 2, 0)])
def test_left_half_is_a_and_right_half_is_b_unless_swapped(tmp_path: Path, direction, a, b):
    write_pair(tmp_path / "train" / "x.png", solid((255, 0, 0)), solid((0, 0, 255)))
    item = AlignedDataset(tmp_path, "train", plain_transform(), direction=direction)[0]
    assert item["A"].shape == item["B"].shape == (3, 8, 12)
    assert item["A"][a].min() == 1 and item["B"][b].min() == 1  # red is channel 0, blue 2
    assert item["A_path"] == item["B_path"] == str(tmp_path / "train" / "x.png")
    assert set(item) == {"A", "B", "A_path", "B_path"}


def test_both_halves_get_the_same_random_crop_and_flip(tmp_path: Path) -> None:
    make_pairs(tmp_path, n_train=1, same_halves=True)
    transform = build_transform("resize_and_crop", 24, 16, flip=True, train=True)
    dataset = AlignedDataset(tmp_path, "train", transform, seed=0)
    crops = []
    for epoch in range(12):
        dataset.set_epoch(epoch)
        crops.append(dataset[0])
        assert torch.equal(dataset[0]["A"], crops[-1]["A"])  # an item depends on (seed, epoch)
    assert all(torch.equal(item["A"], item["B"]) for item in crops)
    assert len({item["A"].sum().item() for item in crops}) > 3  # the crops and flips do vary


def test_an_odd_width_leaves_the_extra_column_to_the_right_half(tmp_path: Path) -> None:
    path = tmp_path / "train" / "odd.png"
    path.parent.mkdir(parents=True)
    Image.new("RGB", (9, 4)).save(path)
    dataset = AlignedDataset(tmp_path, "train", lambda image: torch.tensor(image.size))
    item = dataset[0]
    assert item["A"].tolist() == [4, 4] and item["B"].tolist() == [5, 4]


def test_ground_truth_is_the_paired_image(tmp_path: Path) -> None:
    make_pairs(tmp_path)
    dataset = AlignedDataset(tmp_path, "test", plain_transform(), ground_truth=True)
    item = dataset[1]
    assert torch.equal(item["target_B"], item["B"]) and torch.equal(item["target_A"], item["A"])
    # what evaluation reads: the truth of an A half is the B half of its pair, and the other way
    a_halves, b_halves = dataset.images_of("A"), dataset.images_of("B")
    assert torch.equal(a_halves.truth(1, "B"), item["B"]) and not a_halves.has_truth_for("A")
    assert torch.equal(b_halves.truth(1, "A"), item["A"]) and not b_halves.has_truth_for("B")


def test_missing_and_empty_folders_name_the_folder_and_the_layout(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"train not found\. Expected layout"):
        AlignedDataset(tmp_path, "train", plain_transform())
    (tmp_path / "train").mkdir()
    with pytest.raises(DataError, match="holds no image files"):
        AlignedDataset(tmp_path, "train", plain_transform())


def test_bad_direction_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.direction"):
        AlignedDataModule(str(tmp_path), direction="AB", **SMALL)


def test_module_batches_and_ground_truth(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "set", n_train=3, n_test=3)
    module = AlignedDataModule(str(root), batch_size=2, **SMALL)
    module.setup("fit")
    train = next(iter(module.train_dataloader()))
    assert set(train) == {"A", "B", "A_path", "B_path"}
    assert tuple(train["A"].shape) == tuple(train["B"].shape) == (2, 3, 16, 16)
    val = next(iter(module.val_dataloader()))
    assert set(val) == {"A", "B", "A_path", "B_path", "target_A", "target_B"}
    assert module.has_ground_truth
    assert [Path(p).name for p in val["A_path"]] == ["0000.png", "0001.png"]
    assert len(module.train_dataloader()) == 2


def test_missing_root_gives_the_download_hint(tmp_path: Path) -> None:
    module = AlignedDataModule(str(tmp_path / "absent"), download_hint="Get it at X.", **SMALL)
    with pytest.raises(DataError, match=r"not found\. Get it at X\.$"):
        module.setup("fit")
    plain = AlignedDataModule(str(tmp_path / "absent"), **SMALL)
    with pytest.raises(DataError, match="side by side"):
        plain.setup("fit")


@pytest.mark.parametrize("policy", ["warn", "error"])
def test_undecodable_pairs_are_skipped_or_stop_the_run_at_start_up(tmp_path: Path, policy) -> None:
    make_pairs(tmp_path, n_train=3)
    (tmp_path / "train" / "0001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    module = AlignedDataModule(str(tmp_path), on_bad_image=policy, **SMALL)
    if policy == "error":
        with pytest.raises(BadImageError, match=r"0001\.png"):
            module.setup("fit")
        return
    module.setup("fit")
    assert [p.name for p in module.train_dataset.paths] == ["0000.png", "0002.png"]


def test_facades_config() -> None:
    cfg = OmegaConf.load(CONF_DIR / "facades.yaml")
    assert cfg._target_ == "unpaired.data.aligned.AlignedDataModule"
    assert (cfg.direction, cfg.load_size, cfg.crop_size, cfg.flip) == ("BtoA", 286, 256, True)
    # where `unpaired-download facades_pix2pix` puts it
    assert OmegaConf.to_container(cfg, resolve=False)["root"] == "${paths.data_dir}/facades_pix2pix"
    assert "unpaired-download facades_pix2pix" in cfg.download_hint
    assert "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz" in (
        cfg.download_hint
    )
    cfg.root = "/nonexistent/facades"
    module = instantiate(cfg)
    assert isinstance(module, AlignedDataModule) and module.direction == "BtoA"
    with pytest.raises(DataError, match=r"facades\.tar\.gz"):
        module.setup("fit")


# ---------------------------------------------------------------- the paired synthetic set
SPEC = synthetic.SyntheticSpec(image_size=16, n_train=4, n_test=3, seed=1)


def test_paired_synthetic_set_shows_the_unpaired_sets_scenes_in_both_styles(tmp_path) -> None:
    synthetic.ensure(tmp_path / "aligned", SPEC, aligned=True)
    synthetic.ensure(tmp_path / "unpaired", SPEC)
    names = sorted(p.name for p in (tmp_path / "aligned").iterdir())
    assert names == ["spec.json", "test", "train"]
    assert json.loads((tmp_path / "aligned" / "spec.json").read_text())["layout"] == "aligned"
    assert len(list((tmp_path / "aligned" / "train").glob("*.png"))) == 4
    for split, left, right in (("train", "trainA", None), ("test", "testA", "testA_true")):
        pair = np.asarray(Image.open(tmp_path / "aligned" / split / "0001.png"))
        assert pair.shape == (16, 32, 3)
        unpaired = tmp_path / "unpaired"
        assert np.array_equal(pair[:, :16], np.asarray(Image.open(unpaired / left / "0001.png")))
        if right is not None:  # the B half is the true translation of the A half
            truth = np.asarray(Image.open(unpaired / right / "0001.png"))
            assert np.array_equal(pair[:, 16:], truth)


def test_paired_and_unpaired_sets_are_not_mistaken_for_each_other(tmp_path: Path) -> None:
    synthetic.ensure(tmp_path / "unpaired", SPEC)
    with pytest.raises(DataError, match="aligned"):
        synthetic.ensure(tmp_path / "unpaired", SPEC, aligned=True)
    synthetic.ensure(tmp_path / "aligned", SPEC, aligned=True)
    with pytest.raises(DataError, match="generated with"):
        synthetic.ensure(tmp_path / "aligned", SPEC)


def test_synthetic_aligned_module_generates_and_loads_pairs(tmp_path: Path) -> None:
    cfg = OmegaConf.load(CONF_DIR / "synthetic_aligned.yaml")
    cfg.root = str(tmp_path / "set")
    cfg.update(image_size=16, load_size=16, crop_size=16, n_train=4, n_test=3, num_workers=0)
    module = instantiate(cfg)
    assert isinstance(module, SyntheticAlignedDataModule)
    module.prepare_data()
    module.setup("fit")
    val = next(iter(module.val_dataloader()))
    assert tuple(val["A"].shape) == (3, 3, 16, 16)
    assert torch.equal(val["target_B"], val["B"])
    # domain A has a light background, domain B a dark one
    assert val["A"][:, :, 0, 0].mean() > 0.5 and val["B"][:, :, 0, 0].mean() < -0.5
    assert module.has_ground_truth


def test_aligned_folder_config_loads_your_own_pairs(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "mine", n_train=2, n_test=1)
    cfg = OmegaConf.load(CONF_DIR / "aligned.yaml")
    assert OmegaConf.is_missing(cfg, "root")
    cfg.update(root=str(root), load_size=20, crop_size=16, num_workers=0, direction="BtoA")
    module = instantiate(cfg)
    assert isinstance(module, AlignedDataModule) and module.direction == "BtoA"
    module.setup("fit")
    assert tuple(next(iter(module.train_dataloader()))["A"].shape) == (1, 3, 16, 16)

import pickle
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from unpaired.data.io import load_image
from unpaired.data.transforms import build_transform
from unpaired.data.unaligned import UnalignedDataset
from unpaired.errors import ConfigError, DataError

MakeFolders = Callable[..., Path]
EVAL = build_transform("none", 16, 16, flip=False, train=False)


def _b_names(dataset: UnalignedDataset) -> list[str]:
    return [Path(dataset[i]["B_path"]).name for i in range(len(dataset))]


@pytest.mark.parametrize(("n_a", "n_b"), [(3, 5), (5, 3), (4, 4)])
def test_length_is_the_larger_domain(make_domain_folders: MakeFolders, n_a: int, n_b: int) -> None:
    root = make_domain_folders(n_a, n_b, phases=("train",))
    assert len(UnalignedDataset(root, "train", EVAL)) == max(n_a, n_b)


def test_item_holds_tensors_and_paths(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 3, size=(12, 8), phases=("train",))
    item = UnalignedDataset(root, "train", EVAL)[0]
    assert set(item) == {"A", "B", "A_path", "B_path"}
    assert tuple(item["A"].shape) == tuple(item["B"].shape) == (3, 8, 12)
    assert item["A_path"] == str(root / "trainA" / "0000.png")
    assert Path(item["B_path"]).parent == root / "trainB"


def test_a_by_index_wrapping(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 5, phases=("train",))
    dataset = UnalignedDataset(root, "train", EVAL)
    names = [Path(dataset[i]["A_path"]).name for i in range(len(dataset))]
    assert names == ["0000.png", "0001.png", "0000.png", "0001.png", "0000.png"]
    assert torch.equal(dataset[0]["A"], dataset[2]["A"])


def test_random_b_follows_the_seed(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(12, 6, phases=("train",))
    first = _b_names(UnalignedDataset(root, "train", EVAL, seed=0))
    assert first == _b_names(UnalignedDataset(root, "train", EVAL, seed=0))
    assert first != _b_names(UnalignedDataset(root, "train", EVAL, seed=1))
    assert len(set(first)) > 1
    torch.manual_seed(1)  # the default seed is the run's: torch's initial seed
    assert _b_names(UnalignedDataset(root, "train", EVAL)) == _b_names(
        UnalignedDataset(root, "train", EVAL, seed=1)
    )


def test_fixed_pairing_b_by_index(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(5, 2, phases=("train",))
    names = [
        _b_names(UnalignedDataset(root, "train", EVAL, random_pairing=False, seed=seed))
        for seed in (0, 1)
    ]
    assert names[0] == names[1] == ["0000.png", "0001.png", "0000.png", "0001.png", "0000.png"]


def test_max_dataset_size_truncates_each_domain(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(5, 7, phases=("train",))
    dataset = UnalignedDataset(root, "train", EVAL, max_dataset_size=3)
    assert len(dataset) == 3
    assert [p.name for p in dataset.images["B"].paths] == ["0000.png", "0001.png", "0002.png"]


def test_grayscale(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(1, 1, phases=("train",))
    transform = build_transform("none", 16, 16, flip=False, train=False, channels=1)
    item = UnalignedDataset(root, "train", transform, channels=1)[0]
    assert item["A"].shape[0] == item["B"].shape[0] == 1


@pytest.mark.parametrize("missing", ["testA", "testB"])
def test_missing_domain_folder_is_named(make_domain_folders: MakeFolders, missing: str) -> None:
    root = make_domain_folders(2, 2, phases=("test",))
    shutil.rmtree(root / missing)
    with pytest.raises(DataError, match=re.escape(f"{root / missing} not found")) as error:
        UnalignedDataset(root, "test", EVAL)
    assert "trainA" in str(error.value) and "testB" in str(error.value)


def test_empty_domain_folder_is_named(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 0, phases=("train",))
    (root / "trainB").mkdir(exist_ok=True)
    with pytest.raises(DataError, match=re.escape(f"{root / 'trainB'} holds no image files")):
        UnalignedDataset(root, "train", EVAL)


def test_ground_truth_with_fixed_pairing(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 3, phases=("test",), truths=True)
    dataset = UnalignedDataset(root, "test", EVAL, random_pairing=False)
    assert dataset.has_ground_truth
    item = dataset[2]
    assert set(item) == {"A", "B", "A_path", "B_path", "target_A", "target_B"}
    assert item["target_B"].shape == item["A"].shape
    reference = EVAL(load_image(root / "testA_true" / "0000.png"))
    assert torch.equal(item["target_B"], reference)  # truth of A 2 % 2 = 0
    assert torch.equal(item["target_A"], EVAL(load_image(root / "testB_true" / "0002.png")))
    # what evaluation reads: each domain's images hold their truths in the other domain
    images = dataset.images_of("A")
    assert images.has_truth_for("B") and not images.has_truth_for("A")
    assert torch.equal(images.truth(0, "B"), reference)
    with pytest.raises(ValueError, match=r"no truth in domain A .*known in: B"):
        images.truth(0, "A")


def test_no_ground_truth_with_random_pairing(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 2, phases=("test",), truths=True)
    dataset = UnalignedDataset(root, "test", EVAL, random_pairing=True)
    assert not dataset.has_ground_truth
    assert "target_B" not in dataset[0]


def test_missing_truth_file_is_named(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 2, phases=("test",), truths=True)
    (root / "testB_true" / "0001.png").unlink()
    with pytest.raises(DataError, match=r"testB_true/0001\.png"):
        UnalignedDataset(root, "test", EVAL, random_pairing=False)


def test_dataset_pickles_for_spawned_workers(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 2, phases=("train",))
    dataset = pickle.loads(pickle.dumps(UnalignedDataset(root, "train", EVAL)))
    assert tuple(dataset[1]["A"].shape) == (3, 16, 16)


def test_b_to_a_swaps_the_domains_and_their_truths(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 3, phases=("test",), truths=True)
    forward = UnalignedDataset(root, "test", EVAL, random_pairing=False)
    backward = UnalignedDataset(root, "test", EVAL, random_pairing=False, direction="BtoA")
    assert backward.images["A"].paths == forward.images["B"].paths
    assert backward.images["B"].paths == forward.images["A"].paths
    assert len(backward) == 3
    item = backward[2]
    assert item["A_path"] == str(root / "testB" / "0002.png")
    assert item["B_path"] == str(root / "testA" / "0000.png")
    # target_B is the translation of the item's A image (a testB file) into the other domain
    assert torch.equal(item["target_B"], EVAL(load_image(root / "testB_true" / "0002.png")))
    assert torch.equal(item["target_A"], EVAL(load_image(root / "testA_true" / "0000.png")))


def test_unknown_direction_is_a_config_error(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(1, 1, phases=("train",))
    with pytest.raises(ConfigError, match=r"data\.direction='AtoC'"):
        UnalignedDataset(root, "train", EVAL, direction="AtoC")

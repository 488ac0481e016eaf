"""Named domains: the two layouts, choosing and ordering domains, and items keyed by name."""

from pathlib import Path

import pytest

from unpaired.data.datamodule import UnpairedDataModule
from unpaired.data.transforms import build_transform
from unpaired.data.unaligned import UnalignedDataset, domain_folders
from unpaired.errors import ConfigError, DataError

EVAL = build_transform("none", 16, 16, flip=False, train=False)


def test_one_folder_per_domain_gives_domains_named_after_the_folders(make_named_domains) -> None:
    root = make_named_domains({"wild": 2, "cat": 3, "dog": 1})
    dataset = UnalignedDataset(root, "train", EVAL, random_pairing=False)
    assert dataset.domains == ("cat", "dog", "wild")  # sorted
    assert len(dataset) == 3  # the largest domain's
    item = dataset[2]
    assert {"cat", "dog", "wild", "cat_path", "dog_path", "wild_path"} <= set(item)
    assert Path(item["cat_path"]) == root / "train" / "cat" / "0002.png"
    assert Path(item["dog_path"]) == root / "train" / "dog" / "0000.png"  # 2 % 1
    assert Path(item["wild_path"]) == root / "train" / "wild" / "0000.png"  # 2 % 2


def test_data_domains_choose_and_order_them(make_named_domains) -> None:
    root = make_named_domains({"cat": 3, "dog": 2, "wild": 2})
    dataset = UnalignedDataset(root, "train", EVAL, domains=["dog", "cat"], random_pairing=False)
    assert dataset.domains == ("dog", "cat")
    assert len(dataset) == 3 and set(dataset[0]) == {"dog", "cat", "dog_path", "cat_path"}
    single = UnalignedDataset(root, "train", EVAL, domains=["wild"])
    assert single.domains == ("wild",) and len(single) == 2
    assert set(single[1]) == {"wild", "wild_path"}


def test_the_two_folder_layout_names_its_domains_a_and_b(make_domain_folders) -> None:
    root = make_domain_folders(2, 3, phases=("train",))
    assert UnalignedDataset(root, "train", EVAL).domains == ("A", "B")
    only_b = UnalignedDataset(root, "train", EVAL, domains=["B"])
    assert only_b.domains == ("B",) and len(only_b) == 3


@pytest.mark.parametrize("asked", [["cat", "fox"], ["cat", "cat"], []])
def test_domains_that_are_not_there_are_named_with_those_that_are(
    make_named_domains, asked: list[str]
) -> None:
    root = make_named_domains({"cat": 1, "dog": 1})
    with pytest.raises(ConfigError, match=r"data.domains=.*has the domains cat, dog"):
        domain_folders(root, "train", domains=asked)


def test_a_split_without_domain_folders_says_what_is_expected(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    with pytest.raises(DataError, match=r"holds no domain folders.*train/<domain>"):
        domain_folders(tmp_path, "train")


def test_the_data_module_reports_its_domains(make_named_domains) -> None:
    root = make_named_domains({"cat": 2, "dog": 2, "wild": 1}, size=(20, 20))
    module = UnpairedDataModule(
        str(root), load_size=16, crop_size=16, num_workers=0, domains=["cat", "wild"]
    )
    assert module.domains == ("cat", "wild")  # as asked, before setup
    module.setup("fit")
    assert module.domains == ("cat", "wild")
    batch = next(iter(module.train_dataloader()))
    assert tuple(batch["wild"].shape) == (1, 3, 16, 16)
    images = module.val_dataset.images_of("cat")
    assert len(images) == 2 and images.source == root / "test" / "cat"

import re
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from unpaired.data.datamodule import SyntheticDataModule, UnpairedDataModule, fit_position
from unpaired.data.seeding import EpochSampler
from unpaired.errors import ConfigError, DataError

MakeFolders = Callable[..., Path]
CONF_DIR = Path(__file__).parents[2] / "conf" / "data"
SMALL = dict(load_size=20, crop_size=16, num_workers=0, val_batch_size=2)


def test_folder_module_batches(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(3, 5, size=(24, 18))
    module = UnpairedDataModule(str(root), batch_size=2, **SMALL)
    module.setup("fit")
    train = next(iter(module.train_dataloader()))
    assert set(train) == {"A", "B", "A_path", "B_path"}
    assert tuple(train["A"].shape) == tuple(train["B"].shape) == (2, 3, 16, 16)
    assert len(train["A_path"]) == 2
    val = next(iter(module.val_dataloader()))
    assert tuple(val["A"].shape) == (2, 3, 16, 16)
    assert [Path(p).name for p in val["A_path"]] == ["0000.png", "0001.png"]
    assert not module.has_ground_truth
    assert len(module.train_dataloader()) == 3  # 5 items, batch 2, last batch kept


def test_validation_batches_are_deterministic(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(3, 3, size=(24, 18))
    module = UnpairedDataModule(str(root), **SMALL)
    module.setup("validate")
    assert module.train_dataset is None  # evaluation needs no training folders
    first, second = (next(iter(module.val_dataloader())) for _ in range(2))
    assert torch.equal(first["A"], second["A"]) and first["B_path"] == second["B_path"]


def test_missing_root_names_the_folder_and_the_layout(tmp_path: Path) -> None:
    module = UnpairedDataModule(str(tmp_path / "absent"), **SMALL)
    message = re.escape(f"data folder {tmp_path / 'absent'} not found")
    with pytest.raises(DataError, match=message) as error:
        module.setup("fit")
    assert "trainA" in str(error.value)


def test_download_hint_replaces_the_generic_hint(tmp_path: Path) -> None:
    module = UnpairedDataModule(str(tmp_path / "absent"), download_hint="Fetch it from X.", **SMALL)
    with pytest.raises(DataError, match=r"not found\. Fetch it from X\.$"):
        module.setup("fit")


def test_relative_root_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert UnpairedDataModule("data/x", **SMALL).root == tmp_path / "data" / "x"


def test_bad_options_fail_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.crop_size"):
        UnpairedDataModule(str(tmp_path), load_size=16, crop_size=20)
    with pytest.raises(ConfigError, match=r"data\.preprocess"):
        UnpairedDataModule(str(tmp_path), preprocess="zoom")


def test_loaders_need_setup(tmp_path: Path) -> None:
    module = UnpairedDataModule(str(tmp_path), **SMALL)
    with pytest.raises(RuntimeError, match="setup"):
        module.train_dataloader()


def test_synthetic_module_generates_and_has_ground_truth(tmp_path: Path) -> None:
    module = SyntheticDataModule(
        str(tmp_path / "synthetic"),
        image_size=16,
        n_train=4,
        n_test=3,
        seed=1,
        load_size=16,
        crop_size=16,
        num_workers=0,
        val_batch_size=2,
    )
    module.prepare_data()
    module.setup("fit")
    assert module.has_ground_truth
    train = next(iter(module.train_dataloader()))
    assert tuple(train["A"].shape) == (1, 3, 16, 16)
    val = next(iter(module.val_dataloader()))
    assert set(val) == {"A", "B", "A_path", "B_path", "target_A", "target_B"}
    assert tuple(val["target_B"].shape) == tuple(val["A"].shape) == (2, 3, 16, 16)
    assert not torch.equal(val["target_B"], val["A"])


def test_synthetic_setup_without_prepare_data_explains(tmp_path: Path) -> None:
    module = SyntheticDataModule(str(tmp_path / "synthetic"), **SMALL)
    with pytest.raises(DataError, match="prepare_data"):
        module.setup("fit")


def test_synthetic_worker_loader(tmp_path: Path) -> None:
    module = SyntheticDataModule(
        str(tmp_path / "s"),
        image_size=16,
        n_train=2,
        n_test=2,
        load_size=16,
        crop_size=16,
        num_workers=1,
    )
    module.prepare_data()
    module.setup("fit")
    loader = module.train_dataloader()
    assert loader.persistent_workers
    assert tuple(next(iter(loader))["B"].shape) == (1, 3, 16, 16)


@pytest.mark.parametrize(
    ("epochs", "batches", "expected_start"),
    [
        # a new run: epoch 0 from its first batch
        (dict(ready=0, started=0, processed=0), 0, (0, 0)),
        # resumed from the end of epoch 0: current_epoch still says 0, the loop is at epoch 1
        (dict(ready=1, started=1, processed=1), 3, (1, 0)),
        # resumed in epoch 1 after 2 of its batches (started, not processed)
        (dict(ready=2, started=2, processed=1), 2, (1, 2)),
    ],
)
def test_a_resumed_run_loads_the_data_it_has_not_trained_on(
    make_domain_folders: MakeFolders, epochs: dict, batches: int, expected_start: tuple
) -> None:
    # Lightning builds the loader, and a worker iterator draws its permutation, before its first
    # set_epoch: the loader must start where the restored progress counters say.
    folders = make_domain_folders(7, 3, size=(24, 18))
    module = UnpairedDataModule(str(folders), batch_size=2, **SMALL)
    module.setup("fit")
    module.trainer = L.Trainer(logger=False, enable_checkpointing=False)
    progress = module.trainer.fit_loop
    for name, value in epochs.items():
        setattr(progress.epoch_progress.current, name, value)
    progress.epoch_loop.batch_progress.current.processed = batches
    assert fit_position(module.trainer) == expected_start
    sampler = module.train_dataloader().sampler
    epoch, batches_done = expected_start
    assert sampler.epoch == module.train_dataset.seeds.epoch == epoch
    whole = EpochSampler(module.train_dataset, seed=sampler.seed)
    whole.set_epoch(epoch)
    assert list(sampler) == list(whole)[batches_done * 2 :]  # batches of 2


@pytest.mark.parametrize("name", ["synthetic", "horse2zebra", "folder"])
def test_config_files_instantiate(name: str, tmp_path: Path) -> None:
    config = OmegaConf.load(CONF_DIR / f"{name}.yaml")
    config.root = str(tmp_path)  # the real value interpolates ${paths.data_dir}
    module = instantiate(config)
    assert isinstance(module, UnpairedDataModule)
    assert module.root == tmp_path
    if name == "horse2zebra":
        assert "unpaired-download horse2zebra --from-file" in module.missing_hint()


def test_direction_b_to_a_swaps_the_training_domains(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(2, 3)
    module = UnpairedDataModule(str(root), direction="BtoA", **SMALL)
    module.setup("fit")
    batch = next(iter(module.train_dataloader()))
    assert Path(batch["A_path"][0]).parent.name == "trainB"
    assert Path(batch["B_path"][0]).parent.name == "trainA"
    assert len(module.train_dataset) == 3
    with pytest.raises(ConfigError, match=r"data\.direction"):
        UnpairedDataModule(str(root), direction="backwards", **SMALL)

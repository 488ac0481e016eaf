"""Training items as a function of (seed, epoch, index): the same on any number of workers and
ranks, each A image once per epoch across ranks, new pairings every epoch."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from unpaired.data.datamodule import UnpairedDataModule
from unpaired.data.seeding import EpochSampler
from unpaired.data.transforms import build_transform
from unpaired.data.unaligned import UnalignedDataset

MakeFolders = Callable[..., Path]
TRAIN = build_transform("resize_and_crop", 20, 16, flip=True, train=True)


@pytest.fixture
def root(make_domain_folders: MakeFolders) -> Path:
    return make_domain_folders(7, 5, size=(24, 24), phases=("train",))  # 7 items: odd on purpose


def _rank_items(root: Path, rank: int, epoch: int, seed: int = 3) -> list[tuple[str, str]]:
    """(A name, B name) of every item rank ``rank`` of 2 sees in ``epoch``, from a fresh run."""
    dataset = UnalignedDataset(root, "train", TRAIN, seed=seed)
    sampler = EpochSampler(dataset, num_replicas=2, rank=rank, seed=seed)
    sampler.set_epoch(epoch)
    items = [dataset[index] for index in sampler]
    return [(Path(item["A_path"]).name, Path(item["B_path"]).name) for item in items]


def test_every_a_image_once_per_epoch_across_ranks(root: Path) -> None:
    for epoch in (0, 1):
        seen = Counter(a for rank in (0, 1) for a, _ in _rank_items(root, rank, epoch))
        assert set(seen) == {f"{index:04d}.png" for index in range(7)}
        # 7 items on 2 ranks: the sampler pads with one repeated item so both ranks get 4
        assert sum(seen.values()) == 8 and sorted(seen.values()) == [1] * 6 + [2]


def test_pairing_is_reproducible_and_new_per_rank_and_epoch(root: Path) -> None:
    runs = {(rank, epoch): _rank_items(root, rank, epoch) for rank in (0, 1) for epoch in (0, 1, 2)}
    assert runs[(0, 0)] == _rank_items(root, 0, 0)  # a second run with the same seed
    assert runs[(0, 0)] != _rank_items(root, 0, 0, seed=4)
    assert runs[(0, 0)] != runs[(1, 0)]
    # not only the order: the pairs (A image, its B partner) themselves change with the epoch
    pairs = [frozenset(runs[(0, epoch)] + runs[(1, epoch)]) for epoch in (0, 1, 2)]
    assert len(set(pairs)) == 3


def test_partner_of_an_index_changes_with_the_epoch(root: Path) -> None:
    dataset = UnalignedDataset(root, "train", TRAIN, seed=0)
    partners = set()
    for epoch in range(6):
        dataset.set_epoch(epoch)
        partners.add(dataset[0]["B_path"])
    assert len(partners) > 1


def _batches(root: Path, num_workers: int, epochs: int) -> list[list[torch.Tensor]]:
    dataset = UnalignedDataset(root, "train", TRAIN, seed=5)
    sampler = EpochSampler(dataset, seed=5)
    loader = DataLoader(
        dataset,
        batch_size=2,
        sampler=sampler,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
    )
    epochs_seen = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        epochs_seen.append([torch.cat([b["A"], b["B"]]) for b in loader])
    return epochs_seen


def test_batches_do_not_depend_on_the_number_of_workers(root: Path) -> None:
    """Also shows that persistent workers see the epoch set after they started."""
    in_process = _batches(root, num_workers=0, epochs=2)
    with_workers = _batches(root, num_workers=2, epochs=2)
    for epoch in range(2):
        assert len(in_process[epoch]) == len(with_workers[epoch]) == 4
        for ours, theirs in zip(in_process[epoch], with_workers[epoch], strict=True):
            assert torch.equal(ours, theirs)
    assert not torch.equal(in_process[0][0], in_process[1][0])


class _RecordPartners(L.LightningModule):
    """Trains nothing; records the pairs (A image, B image) of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.partners: dict[int, set[tuple[str, str]]] = {}

    def training_step(self, batch: dict, batch_idx: int) -> None:
        pairs = zip(batch["A_path"], batch["B_path"], strict=True)
        self.partners.setdefault(self.current_epoch, set()).update(pairs)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.0)


def _fit(root: Path, seed: int) -> dict[int, set[tuple[str, str]]]:
    L.seed_everything(seed, verbose=False)
    module = UnpairedDataModule(
        str(root), load_size=20, crop_size=16, batch_size=2, num_workers=0, val_batch_size=2
    )
    model = _RecordPartners()
    trainer = L.Trainer(
        max_epochs=3,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, datamodule=module)
    assert isinstance(trainer.train_dataloader.sampler, EpochSampler)  # Lightning kept ours
    return model.partners


def test_lightning_passes_the_epoch_to_the_dataset(make_domain_folders: MakeFolders) -> None:
    root = make_domain_folders(6, 6, size=(24, 24))
    first = _fit(root, seed=1)
    assert sorted(first) == [0, 1, 2]
    assert len({frozenset(pairs) for pairs in first.values()}) == 3  # every epoch pairs anew
    assert _fit(root, seed=1) == first
    assert _fit(root, seed=2) != first


@pytest.mark.parametrize("rank", [0, 1])
def test_a_sampler_resumed_mid_epoch_leaves_out_what_its_rank_trained_on(
    root: Path, rank: int
) -> None:
    dataset = UnalignedDataset(root, "train", TRAIN, seed=3)
    uninterrupted = EpochSampler(dataset, num_replicas=2, rank=rank, seed=3)
    epochs = []
    for epoch in (1, 2):
        uninterrupted.set_epoch(epoch)
        epochs.append(list(uninterrupted))
    resumed = EpochSampler(dataset, num_replicas=2, rank=rank, seed=3)
    resumed.resume(1, 3)
    assert list(resumed) == epochs[0][3:]
    assert list(resumed) == epochs[0][3:]  # every iterator over the resumed epoch
    assert len(resumed) == len(uninterrupted)  # Lightning counts the epoch's batches from it
    resumed.set_epoch(1)  # Lightning's own call at the resumed epoch's start changes nothing
    assert list(resumed) == epochs[0][3:]
    resumed.set_epoch(2)
    assert list(resumed) == epochs[1]  # the next epoch is whole

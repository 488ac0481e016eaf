"""LightningDataModules: a folder of unpaired images, and the built-in synthetic set."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

from unpaired.data import synthetic
from unpaired.data.folders import check_bad_image_policy
from unpaired.data.seeding import EpochSampler
from unpaired.data.transforms import ImageTransform, build_transform
from unpaired.data.unaligned import LAYOUT_HINT, UnalignedDataset, check_direction
from unpaired.errors import DataError


class UnpairedDataModule(L.LightningDataModule):
    """Unpaired images in ``root/trainA``, ``root/trainB`` (training) and ``root/testA``,
    ``root/testB`` (validation, plus ``testA_true``/``testB_true`` ground truth if present), or
    one folder per domain, ``root/train/<domain>`` and ``root/test/<domain>``.

    ``domains``: the domains to use, in order (None: A and B, or every domain folder); batches
    hold each under its name (:class:`~unpaired.data.unaligned.UnalignedDataset`).

    Training pairs each A image with a random B image and uses the random (crop, flip)
    transform; validation pairs them by index with the deterministic transform (centre crop,
    no flip), so validation batches and their ground truths are the same every epoch.
    Transforms are built in the constructor, so a bad option fails at instantiation time.

    ``direction="BtoA"`` swaps the domains (the ``...B`` folders become domain A).
    ``on_bad_image``: ``warn`` skips images that cannot be decoded, ``error`` stops at start-up
    naming them. Training batches are a function of the run's seed and the epoch only, on any
    number of workers and ranks (see :mod:`unpaired.data.seeding`).
    """

    def __init__(
        self,
        root: str,
        load_size: int = 286,
        crop_size: int = 256,
        preprocess: str = "resize_and_crop",
        flip: bool = True,
        batch_size: int = 1,
        val_batch_size: int = 8,
        num_workers: int = 4,
        max_dataset_size: int | None = None,
        channels: int = 3,
        pin_memory: bool = True,
        persistent_workers: bool = True,
        download_hint: str | None = None,
        direction: str = "AtoB",
        on_bad_image: str = "warn",
        domains: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self._domains = tuple(domains) if domains is not None else None
        self.root = Path(root).expanduser().absolute()
        self.batch_size = batch_size
        self.val_batch_size = val_batch_size
        self.num_workers = num_workers
        self.max_dataset_size = max_dataset_size
        self.channels = channels
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers
        self.download_hint = download_hint
        self.direction = check_direction(direction)
        self.on_bad_image = check_bad_image_policy(on_bad_image)
        options = dict(preprocess=preprocess, load_size=load_size, crop_size=crop_size)
        self.train_transform = build_transform(**options, flip=flip, train=True, channels=channels)
        self.val_transform = build_transform(**options, flip=False, train=False, channels=channels)
        self.train_dataset: UnalignedDataset | None = None
        self.val_dataset: UnalignedDataset | None = None

    @property
    def domains(self) -> tuple[str, ...] | None:
        """The domain names, in order: those asked for, or after :meth:`setup` those found."""
        if self.val_dataset is not None:
            return self.val_dataset.domains
        return self._domains

    def missing_hint(self) -> str:
        """How to get the data, appended to the error when ``root`` does not exist."""
        return self.download_hint or f"{LAYOUT_HINT} Point data.root at such a folder."

    def setup(self, stage: str | None = None) -> None:
        if not self.root.is_dir():
            raise DataError(f"data folder {self.root} not found. {self.missing_hint()}")
        if stage in (None, "fit") and self.train_dataset is None:
            self.train_dataset = self._dataset("train", self.train_transform, random_pairing=True)
        if self.val_dataset is None:
            self.val_dataset = self._dataset("test", self.val_transform, random_pairing=False)

    def _dataset(
        self, phase: str, transform: ImageTransform, random_pairing: bool
    ) -> UnalignedDataset:
        return UnalignedDataset(
            self.root,
            phase,
            transform,
            max_dataset_size=self.max_dataset_size,
            **self._dataset_arguments(random_pairing),
        )

    def _dataset_arguments(self, random_pairing: bool) -> dict[str, Any]:
        """What every unpaired data set of this module is built with, whatever its items."""
        return {
            "random_pairing": random_pairing,
            "channels": self.channels,
            "direction": self.direction,
            "on_bad_image": self.on_bad_image,
            "seed": self._run_seed(),
            "domains": self._domains,
        }

    def _run_seed(self) -> int:
        """The run's seed (torch's initial seed, which ``seed_everything`` sets), the same on every
        rank: broadcast from rank 0, so that unseeded runs also shard one permutation."""
        seed = torch.initial_seed() % 2**63  # DistributedSampler adds the epoch to a signed int64
        return seed if self.trainer is None else self.trainer.strategy.broadcast(seed)

    @property
    def has_ground_truth(self) -> bool:
        """Whether validation items hold ``target_A``/``target_B`` (after :meth:`setup`)."""
        return self._require(self.val_dataset).has_ground_truth

    def train_dataloader(self) -> DataLoader:
        """Shuffled by an :class:`EpochSampler`, which Lightning keeps (it is distributed already)
        and which passes the epoch on to the dataset. Its first epoch is the one about to run,
        so a resumed run goes on with the data of the epoch it stopped before."""
        dataset = self._require(self.train_dataset)
        trainer = self.trainer
        sampler = EpochSampler(
            dataset,
            num_replicas=1 if trainer is None else trainer.world_size,
            rank=0 if trainer is None else trainer.global_rank,
            seed=dataset.seeds.seed,
        )
        # Lightning calls set_epoch at the epoch's start, after it has made this loader's first
        # iterator, whose workers draw the permutation at once: the sampler must be in place now.
        epoch, batches_done = fit_position(trainer)
        sampler.resume(epoch, batches_done * self.batch_size)
        return self._loader(dataset, self.batch_size, sampler=sampler)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self._require(self.val_dataset), self.val_batch_size)

    def _loader(
        self, dataset: UnalignedDataset, batch_size: int, sampler: EpochSampler | None = None
    ) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            drop_last=False,
            # Workers' seeds from the loader's own generator, not from torch's global RNG (see
            # unpaired.data.seeding): the items reseed themselves and do not depend on it.
            generator=torch.Generator().manual_seed(dataset.seeds.seed),
            num_workers=self.num_workers,
            # Pinning without a GPU only earns a warning from torch.
            pin_memory=self.pin_memory and torch.cuda.is_available(),
            persistent_workers=self.persistent_workers and self.num_workers > 0,
        )

    @staticmethod
    def _require(dataset: UnalignedDataset | None) -> UnalignedDataset:
        if dataset is None:
            raise RuntimeError("call setup() on the data module before using its data sets")
        return dataset


def fit_position(trainer: L.Trainer | None) -> tuple[int, int]:
    """Where a fit stands when it builds its training loader: the epoch about to run (or under
    way), and how many of that epoch's batches were trained on already, which is more than 0 only
    in a run resumed from a mid-epoch checkpoint.

    Read from Lightning's progress counters: ``current_epoch`` lags by one there in a run resumed
    from an epoch-end checkpoint (which would replay the previous epoch's order); an epoch that
    was started but not processed when the checkpoint was written is under way.
    """
    if trainer is None:
        return 0, 0
    epochs = trainer.fit_loop.epoch_progress.current
    under_way = epochs.started > epochs.processed
    batches = trainer.fit_loop.epoch_loop.batch_progress.current.processed if under_way else 0
    return epochs.processed, batches


class SyntheticDataModule(UnpairedDataModule):
    """The built-in synthetic set (see :mod:`unpaired.data.synthetic`), generated on first use.

    ``image_size``, ``n_train``, ``n_test`` and ``seed`` define the set; every other argument is
    that of :class:`UnpairedDataModule`.
    """

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        n_train: int = 400,
        n_test: int = 50,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(root, **kwargs)
        self.spec = synthetic.SyntheticSpec(
            image_size=image_size, n_train=n_train, n_test=n_test, seed=seed
        )

    def prepare_data(self) -> None:
        """Generate the set if missing (Lightning calls this on one process per node)."""
        synthetic.ensure(self.root, self.spec)

    def missing_hint(self) -> str:
        return "The synthetic set is generated by prepare_data(), which Trainer.fit calls first."

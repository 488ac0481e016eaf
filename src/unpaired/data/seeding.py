"""Randomness of training items as a function of (seed, epoch, index) alone.

A training item draws random numbers for its B partner, its crop and its flip. Drawn from the
global torch RNG of a data-loader worker, they would depend on how many workers there are and
which worker got the item. Instead, each item reseeds the torch RNG from ``(seed, epoch, index)``
for the time it is built (:meth:`ItemSeeds.seeded`), so an item is the same whatever the number
of workers or of ranks; two runs with one seed see identical batches.

The rank does not enter the seed: in an epoch each index is on exactly one rank (the
``DistributedSampler`` shards one shared permutation), so different ranks already build different
items, and an A image gets the same partner whatever the world size.

How the epoch reaches the items: Lightning calls ``set_epoch(epoch)`` on the training sampler at
the start of every epoch; our sampler (:class:`EpochSampler`) passes it to the dataset, which
stores it in a shared-memory tensor (:class:`ItemSeeds`), so data-loader workers, persistent ones
included, read the new epoch for every item they build after that.

The sampler must hold the right epoch before the loader's first iterator exists, though: Lightning
creates that iterator when it builds the loader, before its first ``set_epoch``, and a
multi-process iterator draws the epoch's permutation and starts building items at once. So the
data module sets the epoch when it creates the loader, to the epoch about to run (Lightning's
count of processed epochs; ``trainer.current_epoch`` still lags by one there in a run resumed from
an epoch-end checkpoint, which would replay the previous epoch's order).

A run resumed in the middle of an epoch goes on with the items it had not trained on yet: Lightning
runs only the epoch's remaining number of batches, but takes them from a new iterator over the
loader, so the sampler leaves out, in that epoch, the samples the checkpoint had already trained on
(:meth:`EpochSampler.resume`). The loaders draw their workers' seeds from a generator of their own,
not from torch's global RNG, whose state the checkpoint restores: creating a loader's iterator at
another moment in a resumed run (or once per session with persistent workers) leaves the random
stream of the training (history pools, noise) where an uninterrupted run has it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler


class ItemSeeds:
    """The seed of each item: ``seed`` mixed with the current epoch and the item's index."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        # In shared memory: a worker process sees the parent's writes (fork, spawn or forkserver).
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.fill_(epoch)

    def item_seed(self, index: int) -> int:
        """A 64-bit seed, statistically independent for every (seed, epoch, index)."""
        state = np.random.SeedSequence([self.seed, self.epoch, index]).generate_state(1, np.uint64)
        return int(state[0])

    @contextmanager
    def seeded(self, index: int) -> Iterator[None]:
        """Within the block, the global CPU torch RNG is seeded for item ``index``; the state it
        had before is restored afterwards."""
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(self.item_seed(index))
            yield


class EpochAware(Protocol):
    """A dataset whose items depend on the epoch."""

    def set_epoch(self, epoch: int) -> None: ...


class EpochSampler(DistributedSampler):
    """Lightning's per-rank shuffling sampler that also tells the dataset the epoch.

    A ``DistributedSampler`` (one rank's share of a permutation seeded by ``seed`` and the epoch;
    with ``num_replicas=1`` a plain shuffle), so Lightning keeps it instead of putting its own in,
    and calls :meth:`set_epoch` on it every epoch. :meth:`resume` starts it in the middle of an
    epoch.
    """

    def __init__(
        self, dataset: Dataset, num_replicas: int = 1, rank: int = 0, seed: int = 0
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        #: (epoch, samples of this rank's share to leave out in it) after a mid-epoch resume
        self._resumed_at: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        if self._resumed_at is not None and self._resumed_at[0] != epoch:
            self._resumed_at = None  # the resumed epoch is over: later ones are whole
        dataset: EpochAware = self.dataset  # type: ignore[assignment]
        dataset.set_epoch(epoch)

    def resume(self, epoch: int, samples_done: int) -> None:
        """Go to ``epoch``, of which this rank has trained on the first ``samples_done`` samples
        of its share already: every iterator over that epoch leaves them out.

        The length stays the whole share's, as Lightning expects: it counts the epoch's batches
        from the loader's length and runs the ones not done yet.
        """
        if samples_done < 0:
            raise ValueError(f"samples_done must be >= 0, got {samples_done}")
        self.set_epoch(epoch)
        self._resumed_at = (epoch, samples_done) if samples_done else None

    def __iter__(self) -> Iterator[int]:
        indices = super().__iter__()
        if self._resumed_at is not None and self._resumed_at[0] == self.epoch:
            return islice(indices, self._resumed_at[1], None)
        return indices

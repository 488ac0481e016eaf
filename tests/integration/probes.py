"""Callbacks a test adds to a training run (``+callbacks.<name>._target_=probes.<Class>``) to look
inside its processes; the ``train_cli`` and ``train_with_probes`` fixtures put this folder on the
run's PYTHONPATH."""

import json
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

#: torch's all_reduce as imported, which CountCollectives' patching of the module leaves alone.
_UNCOUNTED_ALL_REDUCE = dist.all_reduce


class SaveParametersOfEveryRank(L.Callback):
    """Writes every rank's parameters when training starts and ends, to
    ``<dirpath>/rank<N>_start.pt`` and ``<dirpath>/rank<N>_end.pt``."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer, pl_module, "start")

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer, pl_module, "end")

    def _save(self, trainer: L.Trainer, pl_module: L.LightningModule, when: str) -> None:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        state = {name: p.detach().cpu().clone() for name, p in pl_module.named_parameters()}
        torch.save(state, self.dirpath / f"rank{trainer.global_rank}_{when}.pt")


class CountGradientReductions(L.Callback):
    """Counts DDP's gradient all-reduces (one per bucket) in every training batch, through a
    communication hook that all-reduces as DDP would, and writes the counts of every rank to
    ``<dirpath>/reductions_rank<N>.json``."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)
        self.per_batch: list[int] = []
        self._count = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        model = trainer.strategy.model
        assert isinstance(model, DistributedDataParallel), "run this probe under DDP"
        model.register_comm_hook(None, self._all_reduce_mean)

    def _all_reduce_mean(
        self, state: Any, bucket: dist.GradBucket
    ) -> torch.futures.Future[torch.Tensor]:
        self._count += 1
        buffer = bucket.buffer().div_(dist.get_world_size())
        # DDP's own gradient reduction, not one of the step's (CountCollectives leaves it out)
        reduction = _UNCOUNTED_ALL_REDUCE(buffer, async_op=True)
        return reduction.get_future().then(lambda f: f.value()[0])

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self.per_batch.append(self._count)
        self._count = 0

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        output = self.dirpath / f"reductions_rank{trainer.global_rank}.json"
        output.write_text(json.dumps(self.per_batch))


class RecordItems(L.Callback):
    """Appends, for every training batch, ``{"epoch", "batch", "A": [file names]}`` as one JSON
    line to ``path``: which items the run trained on, and in which order."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        record = {
            "epoch": trainer.current_epoch,
            "batch": batch_idx,
            "A": [Path(path).name for path in batch["A_path"]],
        }
        with self.path.open("a") as file:
            file.write(json.dumps(record) + "\n")


class HangAtBatch(L.Callback):
    """Stops making progress at the start of batch ``batch`` of epoch ``epoch``: writes
    ``marker`` and sleeps, for a test to kill the process there, at a known position."""

    def __init__(self, epoch: int, batch: int, marker: str) -> None:
        self.epoch, self.batch, self.marker = epoch, batch, Path(marker)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            self.marker.write_text("waiting to be killed")
            time.sleep(3600)


class NonFiniteLossOnOneRank(L.Callback):
    """Makes the generator loss of rank ``rank`` NaN in training batch ``batch`` (its gradients
    stay finite: the NaN is a constant), so that one process alone sees a non-finite update;
    writes every rank's count of skipped updates to ``<dirpath>/nonfinite_rank<N>.json``."""

    def __init__(self, rank: int, batch: int, dirpath: str) -> None:
        self.rank, self.batch, self.dirpath = rank, batch, Path(dirpath)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if (trainer.global_rank, batch_idx) != (self.rank, self.batch):
            return
        compute = type(pl_module).generator_loss

        def poisoned(*args: Any) -> Any:
            loss, terms = compute(pl_module, *args)
            return loss + float("nan"), terms

        pl_module.generator_loss = poisoned

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any):
        pl_module.__dict__.pop("generator_loss", None)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        output = self.dirpath / f"nonfinite_rank{trainer.global_rank}.json"
        output.write_text(json.dumps(int(pl_module.nonfinite_steps)))


class CountCollectives(L.Callback):
    """Counts the collective calls made from Python (``torch.distributed.all_reduce``,
    ``broadcast``, ``all_gather``, ``barrier``, ...) in every training batch, and writes every
    rank's counts to ``<dirpath>/collectives_rank<N>.json``. DDP's own gradient all-reduces go
    through its C++ reducer and are not counted here (CountGradientReductions counts those)."""

    NAMES = (
        "all_reduce",
        "all_gather",
        "all_gather_object",
        "broadcast",
        "broadcast_object_list",
        "reduce",
        "barrier",
    )

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)
        self.per_batch: list[int] = []
        self._count = 0
        self._originals: dict[str, Any] = {}

    def _counting(self, function: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self._count += 1
            return function(*args, **kwargs)

        return counted

    def on_train_batch_start(self, *args: Any) -> None:
        self._count = 0
        for name in self.NAMES:
            self._originals[name] = getattr(dist, name)
            setattr(dist, name, self._counting(self._originals[name]))

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        for name, function in self._originals.items():
            setattr(dist, name, function)
        self.per_batch.append(self._count)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        output = self.dirpath / f"collectives_rank{trainer.global_rank}.json"
        output.write_text(json.dumps(self.per_batch))


class HangOnceInTrial(L.Callback):
    """Stops making progress at the first training batch of the Optuna trial ``hang_in``
    (``trial`` is the run's own, ``${trial.number}``), unless ``marker`` exists: writes it and
    sleeps, for a test to kill the sweep there; the same command run again does not hang."""

    def __init__(self, trial: int, hang_in: int, marker: str) -> None:
        self.hang, self.marker = trial == hang_in, Path(marker)

    def on_train_batch_start(self, *args: Any) -> None:
        if self.hang and not self.marker.exists():
            self.marker.write_text("waiting to be killed")
            time.sleep(3600)

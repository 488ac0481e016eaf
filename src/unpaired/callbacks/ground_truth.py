"""Before/after report of the exact translation error on a data set with known true translations."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities.seed import isolate_rng
from rich.console import Console
from rich.table import Table

from unpaired.metrics.ground_truth import ground_truth_errors

log = logging.getLogger(__name__)


@torch.no_grad()
def evaluate_ground_truth(
    pl_module: L.LightningModule, batches: Iterable[dict[str, Any]]
) -> dict[str, float]:
    """Mean per-image L1/PSNR of the model's translations over batches that hold the true
    translations (``target_A``/``target_B``); empty if they hold none."""
    was_training = pl_module.training
    pl_module.eval()
    sums: dict[str, float] = {}
    count = 0
    for batch in batches:
        batch = {k: v.to(pl_module.device) if torch.is_tensor(v) else v for k, v in batch.items()}
        errors = ground_truth_errors(batch, pl_module.generate(batch), pl_module.translations)
        for name, values in errors.items():
            sums[name] = sums.get(name, 0.0) + float(values.sum())
        count += batch[pl_module.domains[0]].shape[0]
    pl_module.train(was_training)
    return {name: total / count for name, total in sorted(sums.items())}


def validation_batches(length: int, limit: int | float) -> int:
    """How many of a validation loader's ``length`` batches Lightning runs under
    ``trainer.limit_val_batches=limit`` (an int: that many; a float: that share)."""
    return min(length, limit) if isinstance(limit, int) else int(length * limit)


class GroundTruthReport(L.Callback):
    """Measures the translation error against the truth when training starts and when it ends,
    prints both side by side, logs them (``gt_start/*``, ``gt_end/*``) and writes them to
    ``output`` as JSON. Does nothing on a data set without true translations.

    It measures the batches validation runs (``trainer.limit_val_batches``; one batch in a
    ``fast_dev_run``, which checks that things run, in seconds), by default the whole test set.
    """

    def __init__(self, output: str | Path) -> None:
        super().__init__()
        self.output = Path(output)
        self.report: dict[str, dict[str, float]] = {}

    def _measure(self, trainer: L.Trainer, pl_module: L.LightningModule, label: str) -> None:
        datamodule = trainer.datamodule
        if not trainer.is_global_zero or not getattr(datamodule, "has_ground_truth", False):
            return
        loader = datamodule.val_dataloader()
        batches = validation_batches(len(loader), trainer.limit_val_batches)
        if batches == 0:
            return
        # the weights the model is evaluated with (its averages, if any); nothing here may move
        # training's random stream
        with isolate_rng(), pl_module.averaged_weights():
            errors = evaluate_ground_truth(pl_module, islice(loader, batches))
        self.report[label] = {"epoch": trainer.current_epoch, **errors}
        for logger in trainer.loggers:
            logger.log_metrics(
                {f"gt_{label}/{k}": v for k, v in errors.items()}, trainer.global_step
            )

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._measure(trainer, pl_module, "start")

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._measure(trainer, pl_module, "end")
        if "start" not in self.report or "end" not in self.report:
            return
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.output.write_text(json.dumps(self.report, indent=2))
        self._print()

    def _print(self) -> None:
        start, end = self.report["start"], self.report["end"]
        table = Table(title="Error against the true translation (test set)")
        table.add_column("metric")
        table.add_column(f"start (epoch {start['epoch']})", justify="right")
        table.add_column(f"end (epoch {end['epoch']})", justify="right")
        for name in (k for k in start if k != "epoch"):
            table.add_row(name, f"{start[name]:.4f}", f"{end[name]:.4f}")
        Console().print(table)
        log.debug("ground-truth errors written to %s", self.output)  # the run's ending says so

"""What ``unpaired-train`` says before the first step and after the last: the run in one block
(where it goes, what it trains on what, how long, on what device, logged where), and at the end
what was written where and the next commands, filled in with this run's checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger
from omegaconf import DictConfig, OmegaConf

from unpaired.callbacks import Checkpointing, ImageGrid
from unpaired.cli.screen import block, shown_path
from unpaired.config import config_dir

#: Data settings that decide what evaluation reads: passed on to unpaired-evaluate when the run
#: used other values than its data config's.
_EVALUATED_DATA_KEYS = (
    "domains",
    "direction",
    "image_size",
    "n_test",
    "load_size",
    "crop_size",
    "preprocess",
    "channels",
    "max_dataset_size",
)


def start_block(cfg: DictConfig, model: L.LightningModule, trainer: L.Trainer) -> str:
    """The run in one screen (the whole config is in the run's ``.hydra/config.yaml``)."""
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    preset = choices.get("experiment")
    method = type(model).__name__ + (f" (preset {preset})" if preset else "")
    data = cfg.data
    size = data.get("crop_size") or data.get("img_size")  # StarGAN v2's data: img_size
    data_line = (
        f"{choices.get('data', '?')}: {shown_path(data.root)}, domains "
        f"{', '.join(map(str, getattr(model, 'domains', ())))}, {size}x{size}, "
        f"batch {data.batch_size}"
    )
    iterations = cfg.model.get("max_iterations")
    epochs = trainer.max_epochs
    length = f"{iterations:,} iterations" if iterations else f"{epochs} epoch(s)"
    accelerator = type(trainer.accelerator).__name__.removesuffix("Accelerator").lower()
    device = (
        f"{accelerator}, {trainer.num_devices} device(s) x {trainer.num_nodes} node(s), "
        f"precision {trainer.precision}"
    )
    rows = [
        ("method", method),
        ("data", data_line),
        ("length", length),
        ("device", device),
        ("logger", ", ".join(_logger_names(cfg)) or "none"),
    ]
    rows += [
        (f"  {name}", f"{type(network).__name__}, {_count(network):,} parameters")
        for name, network in model.named_children()
        if any(True for _ in network.parameters()) and name != "ema"
    ]
    title = f"{cfg.name}: {shown_path(cfg.paths.output_dir)}"
    return block(title, rows) + "\n(the whole config: .hydra/config.yaml in the run folder)"


def _logger_names(cfg: DictConfig) -> list[str]:
    loggers = cfg.get("logger") or {}
    names = []
    for name, node in loggers.items():
        if node is not None:
            details = ["offline"] if node.get("offline") else []
            if node.get("group"):  # a sweep's runs share one
                details.append(f"group {node.group}")
            names.append(f"{name} ({', '.join(details)})" if details else name)
    return names


def _count(network: Any) -> int:
    return sum(p.numel() for p in network.parameters())


def ending_block(
    cfg: DictConfig, trainer: L.Trainer, model: L.LightningModule, datamodule: Any
) -> str:
    """What the run wrote and the commands that use it."""
    run = Path(cfg.paths.output_dir)
    rows = [("run folder", shown_path(run))]
    checkpoint = _checkpoints(trainer, rows)
    grids = [c for c in trainer.callbacks if isinstance(c, ImageGrid)]
    latest = max((p for c in grids for p in c.dirpath.glob("*.png")), default=None, key=_mtime)
    if latest is not None:
        rows.append(("image grids", f"{shown_path(latest.parent)}/ (latest: {latest.name})"))
    if (run / "ground_truth.json").is_file():
        rows.append(("ground truth", shown_path(run / "ground_truth.json")))
    rows += _logger_rows(trainer)
    text = block("Done.", rows)
    commands = _next_commands(cfg, model, datamodule, checkpoint)
    if commands:
        text += "\n" + "\n".join(["Next:", *(f"  {command}" for command in commands)])
    return text


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def _checkpoints(trainer: L.Trainer, rows: list[tuple[str, str]]) -> Path | None:
    """Add the best and last checkpoints to ``rows``; the one to use next (best, else last)."""
    for callback in trainer.callbacks:
        if not isinstance(callback, Checkpointing):
            continue
        chosen = None
        if callback.best_path.is_file():
            score = f"{callback.monitor} {callback.best_score:.4g}, epoch {callback.best_epoch}"
            rows.append(("best checkpoint", f"{shown_path(callback.best_path)} ({score})"))
            chosen = callback.best_path
        if callback.last_path.is_file():
            rows.append(("last checkpoint", shown_path(callback.last_path)))
            chosen = chosen or callback.last_path
        return chosen
    return None


def _logger_rows(trainer: L.Trainer) -> list[tuple[str, str]]:
    rows = []
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            run = logger.experiment
            directory = Path(run.dir).parent  # <run>/wandb/offline-run-<time>-<id>
            if run.offline:
                rows.append(("wandb", f"offline; to upload: wandb sync {shown_path(directory)}"))
            else:
                rows.append(("wandb", str(run.url)))
        elif isinstance(logger, TensorBoardLogger):
            rows.append(("tensorboard", f"tensorboard --logdir {shown_path(logger.log_dir)}"))
        elif isinstance(logger, CSVLogger):
            rows.append(("metrics", shown_path(Path(logger.log_dir) / "metrics.csv")))
    return rows


def _next_commands(
    cfg: DictConfig, model: L.LightningModule, datamodule: Any, checkpoint: Path | None
) -> list[str]:
    translations = getattr(model, "translations", ())
    if checkpoint is None or not translations:
        return []
    translation = translations[0]
    inputs = datamodule.val_dataset.images_of(translation.source).source
    output = Path(cfg.paths.output_dir) / "translated"
    ckpt = shown_path(checkpoint)
    return [
        f"unpaired-translate ckpt={ckpt} input={shown_path(inputs)} output={shown_path(output)} "
        f"direction={translation}",
        f"unpaired-evaluate ckpt={ckpt} {' '.join(_data_overrides(cfg))}",
    ]


def _data_overrides(cfg: DictConfig) -> list[str]:
    """The data choice and the settings that differ from its config file, as overrides for
    ``unpaired-evaluate`` (which reads the test split as this run validated on it)."""
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    choice = choices.get("data")
    if choice is None:
        return []
    defaults = OmegaConf.load(config_dir() / "data" / f"{choice}.yaml")
    overrides = [f"data={choice}", f"data.root={shown_path(cfg.data.root)}"]
    for key in _EVALUATED_DATA_KEYS:
        value = cfg.data.get(key)
        if key in defaults and value != defaults.get(key):
            shown = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
            overrides.append(f"data.{key}={_override_value(shown)}")
    return overrides


def _override_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(map(str, value)) + "]"
    return "null" if value is None else str(value)

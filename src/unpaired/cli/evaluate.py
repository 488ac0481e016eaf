"""``unpaired-evaluate``: FID/KID (and ground truth) of a trained checkpoint on the test split, or
of several side by side (``ckpt=[a.ckpt,b.ckpt]``: one page, one ``results.json``).

Writes ``results.json``, ``index.html``, ``grid_<direction>.png`` and the PNG images into the
evaluation folder (:class:`unpaired.evaluation.evaluate.Evaluation`), and logs the numbers (and
the grids, to wandb) through the configured loggers.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from unpaired.callbacks.image_grid import log_image
from unpaired.cli.common import (
    instantiate_collection,
    null_group_overrides,
    run_reporting_user_errors,
)
from unpaired.cli.screen import block, count_progress, quiet_third_parties, shown_path
from unpaired.config import config_dir, register_resolvers
from unpaired.domains import Translation, pairs, parse_translation
from unpaired.errors import ConfigError
from unpaired.evaluation.evaluate import PAGE_FILE, EvaluatedModel, Evaluation, MetricOptions
from unpaired.evaluation.load import load_model
from unpaired.evaluation.results import metric_cells, model_entries, model_label
from unpaired.inference.load import resolve_device

log = logging.getLogger(__name__)

RESULTS_FILE = "results.json"


def flat_metrics(
    results: Mapping[str, Any], translations: Iterable[Translation], prefix: str = "eval/"
) -> dict[str, float]:
    """``eval/fid_AB``, ``eval/gt_PSNR_AB``, ``eval/lpips_latent_AB``, ...: the numbers of one
    model's ``results``, for each of ``translations`` (``<prefix><metric>_<suffix>``)."""
    flat = {}
    for translation in translations:
        entry = results.get(str(translation))
        if entry is None:
            continue
        suffix = translation.suffix
        for key in ("fid", "kid", "kid_std"):
            if key in entry:
                flat[f"{prefix}{key}_{suffix}"] = entry[key]
        for name, value in entry.get("ground_truth", {}).items():
            flat[f"{prefix}gt_{name}_{suffix}"] = value
        for guide, values in entry.get("styles", {}).items():
            for key in ("fid", "lpips"):
                if key in values:
                    flat[f"{prefix}{key}_{guide}_{suffix}"] = values[key]
    return flat


def checkpoint_paths(ckpt: Any) -> list[Path]:
    """The checkpoint(s) ``ckpt=`` names: one path, or a list of them to compare."""
    paths = [ckpt] if isinstance(ckpt, str) else list(ckpt or [])
    if not paths or not all(isinstance(path, str) and path for path in paths):
        raise ConfigError(
            "ckpt is required: unpaired-evaluate ckpt=experiments/<name>/<run>/checkpoints/"
            "best.ckpt (or last.ckpt) data=<the data set it was trained on>; several to compare "
            f"them: ckpt=[a.ckpt,b.ckpt] (got ckpt={ckpt})"
        )
    return [Path(path).expanduser().absolute() for path in paths]


def model_labels(checkpoints: Sequence[Path], labels: Any) -> list[str]:
    """The models' names on the page and in ``results.json``: ``labels=`` if given (one per
    checkpoint), else each run's name (``experiments/<name>/<run>/checkpoints/x.ckpt``) or the
    file's stem, numbered where two would be the same."""
    if labels is not None:
        given = [str(label) for label in labels]
        if len(given) != len(checkpoints) or len(set(given)) != len(given):
            raise ConfigError(
                f"labels={given} must name each of the {len(checkpoints)} checkpoints once, "
                "in order: labels=[cyclegan,cut]"
            )
        return given
    names = [
        path.parents[2].name
        if path.parent.name == "checkpoints" and len(path.parents) > 2
        else path.stem
        for path in checkpoints
    ]
    if len(set(names)) == len(names):
        return names
    return [f"{name}_{index + 1}" for index, name in enumerate(names)]


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Evaluate ``cfg.ckpt`` (one checkpoint, or several side by side) as ``cfg`` says; returns
    the results written to ``results.json``."""
    checkpoints = checkpoint_paths(cfg.get("ckpt"))
    labels = model_labels(checkpoints, cfg.get("labels"))
    output_dir = Path(cfg.paths.output_dir).absolute()
    device = resolve_device(cfg.device)
    exported = None  # the translation the generator files make, when there are any
    if any(path.suffix != ".ckpt" for path in checkpoints):
        exported = parse_translation(cfg.direction, pairs(cfg.data.domains))
    models = [
        EvaluatedModel(label, *load_model(path, device, cfg.weights, exported))
        for path, label in zip(checkpoints, labels, strict=True)
    ]
    datamodule = instantiate(cfg.data)
    options = MetricOptions(**OmegaConf.to_container(cfg.metrics, resolve=True))
    with count_progress() as progress:
        evaluation = Evaluation(models, datamodule, output_dir, options, device, progress)
        results = evaluation.run()
    results["data"] = OmegaConf.to_container(cfg.data, resolve=True)
    (output_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
    entries = model_entries(results)
    metrics = {}
    for model, entry in zip(models, entries, strict=True):
        prefix = f"eval/{model.label}/" if len(models) > 1 else "eval/"
        metrics.update(flat_metrics(entry, model.module.translations, prefix))
    for logger in instantiate_collection(cfg.get("logger")):
        logger.log_metrics(metrics, step=0)
        for name, grid in evaluation.grids.items():
            caption = " | ".join(evaluation.grid_columns[name])
            log_image([logger], f"eval/images_{name}", grid, caption, 0)
        logger.finalize("success")
    log.info("%s", summary(results, output_dir))
    return results


def summary(results: Mapping[str, Any], folder: Path) -> str:
    """The numbers per model and translation, and what was written where."""
    entries = model_entries(results)
    rows = []
    for entry in entries:
        label = f"{model_label(entry)} " if len(entries) > 1 else ""
        for name, values in entry.items():
            if isinstance(values, Mapping) and "n_translated" in values:
                cells = metric_cells(values)
                numbers = ", ".join(f"{metric} {value}" for metric, value in cells.items())
                rows.append((f"{label}{name}", numbers or "translated"))
    if len(entries) == 1 and "weights" in entries[0]:
        rows.append(("weights", entries[0]["weights"]))
    rows += [
        ("results", shown_path(folder / RESULTS_FILE)),
        ("page", shown_path(folder / PAGE_FILE)),
        ("images", shown_path(folder / "images")),
    ]
    evaluated = ", ".join(shown_path(entry["checkpoint"]) for entry in entries)
    return block(f"Evaluated {evaluated}:", rows)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="evaluate")
def _main(cfg: DictConfig) -> Any:
    return run_reporting_user_errors(evaluate, cfg)


def main() -> None:
    quiet_third_parties()
    register_resolvers()
    sys.argv[1:] = null_group_overrides(sys.argv[1:], config_dir())
    _main()


if __name__ == "__main__":
    main()

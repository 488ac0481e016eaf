"""``unpaired-evaluate``: FID/KID (and ground truth) of a trained checkpoint on the test split.

Writes ``results.json``, ``index.html``, ``grid_<direction>.png`` and the PNG images into the
evaluation folder (:class:`unpaired.evaluation.evaluate.Evaluation`), and logs the numbers (and
the grids, to wandb) through the configured loggers.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
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
from unpaired.cli.screen import block, quiet_third_parties, shown_path
from unpaired.config import config_dir, register_resolvers
from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.evaluation.evaluate import Evaluation, MetricOptions
from unpaired.evaluation.load import load_module
from unpaired.inference.load import resolve_device

log = logging.getLogger(__name__)

RESULTS_FILE = "results.json"


def flat_metrics(results: dict[str, Any], translations: Iterable[Translation]) -> dict[str, float]:
    """``eval/fid_AB``, ``eval/kid_AB``, ``eval/gt_PSNR_AB``, ...: the numbers of ``results``, for
    each of ``translations`` (``<metric>_<translation.suffix>``)."""
    flat = {}
    for translation in translations:
        entry = results.get(str(translation))
        if entry is None:
            continue
        suffix = translation.suffix
        for key in ("fid", "kid", "kid_std"):
            if key in entry:
                flat[f"eval/{key}_{suffix}"] = entry[key]
        for name, value in entry.get("ground_truth", {}).items():
            flat[f"eval/gt_{name}_{suffix}"] = value
    return flat


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Evaluate ``cfg.ckpt`` as ``cfg`` says; returns the results written to ``results.json``."""
    if not cfg.get("ckpt"):
        raise ConfigError(
            "ckpt is required: unpaired-evaluate ckpt=experiments/<name>/<run>/checkpoints/"
            "best.ckpt (or last.ckpt) data=<the data set it was trained on>"
        )
    output_dir = Path(cfg.paths.output_dir).absolute()
    checkpoint = Path(cfg.ckpt).expanduser().absolute()
    module, weights = load_module(checkpoint, resolve_device(cfg.device), cfg.weights)
    datamodule = instantiate(cfg.data)
    options = MetricOptions(**OmegaConf.to_container(cfg.metrics, resolve=True))
    evaluation = Evaluation(module, datamodule, output_dir, options)
    results = {
        "checkpoint": str(checkpoint),
        "model": f"{type(module).__module__}.{type(module).__qualname__}",
        "weights": weights,  # ema: the averaged weights of a model trained with model.ema
        "data": OmegaConf.to_container(cfg.data, resolve=True),
        **evaluation.run(),
    }
    (output_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
    metrics = flat_metrics(results, module.translations)
    for logger in instantiate_collection(cfg.get("logger")):
        logger.log_metrics(metrics, step=0)
        for name, grid in evaluation.grids.items():
            log_image([logger], f"eval/images_{name}", grid, "input | translation | rec", 0)
        logger.finalize("success")
    log.info("%s", summary(results, module.translations, output_dir))
    return results


def summary(results: dict[str, Any], translations: Iterable[Translation], folder: Path) -> str:
    """The numbers per translation, and what was written where."""
    rows = []
    for translation in translations:
        entry = results.get(str(translation), {})
        numbers = []
        if "fid" in entry:
            numbers.append(f"FID {entry['fid']:.2f}")
        if "kid" in entry:
            numbers.append(f"KID {entry['kid']:.4f} ± {entry['kid_std']:.4f}")
        numbers += [f"{name} {value:.4g}" for name, value in entry.get("ground_truth", {}).items()]
        rows.append((str(translation), ", ".join(numbers) or "translated"))
    rows += [
        ("weights", results["weights"]),
        ("results", shown_path(folder / RESULTS_FILE)),
        ("page", shown_path(folder / "index.html")),
        ("images", shown_path(folder / "images")),
    ]
    return block(f"Evaluated {shown_path(results['checkpoint'])}:", rows)


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

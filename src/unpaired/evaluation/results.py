"""Reading ``results.json``: its models, their numbers per translation, and how they are shown.

One model's results hold its entries at the top level (``checkpoint``, ``AtoB``, ...); a
comparison of several holds them in ``models``, one entry per model, each with its ``label``.
The console summary and the evaluation page show the numbers through :func:`metric_cells`, so
both show the same digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How each ground-truth metric is shown.
GROUND_TRUTH_FORMATS = {"L1": ".4f", "PSNR": ".2f", "SSIM": ".4f", "TL1": ".4f"}


def model_entries(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The results of each evaluated model, in the order they were given."""
    return list(results["models"]) if "models" in results else [results]


def model_label(entry: Mapping[str, Any]) -> str:
    return entry.get("label") or entry.get("training", {}).get("method") or "model"


def metric_cells(entry: Mapping[str, Any]) -> dict[str, str]:
    """The numbers of one translation's entry as shown: ``FID``, ``KID`` (mean ± std), the
    ground-truth ``L1``, ``PSNR`` (dB), ``SSIM`` (``TL1`` on clips), the warping error ``WE`` of
    clips, and the multimodal protocol's (:func:`style_cells`); only those measured."""
    cells = {}
    if "fid" in entry:
        cells["FID"] = f"{entry['fid']:.2f}"
    if "kid" in entry:
        cells["KID"] = f"{entry['kid']:.4f} ± {entry['kid_std']:.4f}"
    for name, value in entry.get("ground_truth", {}).items():
        cells[name] = _ground_truth(name, value)
    if "warping_error" in entry:
        cells["WE"] = f"{entry['warping_error']:.4f}"
    cells.update(style_cells(entry.get("styles", {})))
    return cells


def style_cells(styles: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The multimodal protocol's numbers per guide: ``FID latent``, ``LPIPS latent``, ...
    (a translation's ``styles``, or a model's ``styles_mean``)."""
    cells = {}
    for guide, values in styles.items():
        if "fid" in values:
            cells[f"FID {guide}"] = f"{values['fid']:.2f}"
        cells[f"LPIPS {guide}"] = f"{values['lpips']:.4f}"
    return cells


def kid_warning(entry: Mapping[str, Any]) -> str | None:
    """Why the KID ± of an entry says little, or None: its subsets (drawn without replacement)
    cover more than half of the smaller sample, so they overlap heavily and the spread over
    them understates the uncertainty (all alike, ± 0, when a subset is the whole sample)."""
    if "kid_subset_size" not in entry:
        return None
    smaller = min(entry["n_translated"], entry["n_reference"])
    if 2 * entry["kid_subset_size"] <= smaller:
        return None
    return (
        f"KID subsets of {entry['kid_subset_size']} images from {smaller} overlap heavily: "
        "the ± understates the uncertainty; evaluate on more test images for a meaningful one"
    )


def per_image_caption(errors: Mapping[str, float]) -> str:
    """One image's ground-truth errors, as the metrics table shows them: ``L1 0.0812 · ...``."""
    return " · ".join(f"{name} {_ground_truth(name, value)}" for name, value in errors.items())


def _ground_truth(name: str, value: float) -> str:
    return format(value, GROUND_TRUTH_FORMATS.get(name, ".4g"))

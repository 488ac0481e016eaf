"""Evaluate a trained model on the test split, as the papers did.

Every test image of both domains is passed through the data's deterministic test transform and
saved as PNG (``images/real_A``, ``images/real_B``: one folder per domain, by name); each
translation the model makes translates its source domain, and its translations (and, when it
also makes the way back, the reconstructions) are
saved as PNG too (``images/fake_B``, ``images/rec_A``, ...). FID and KID are then computed from
the PNG files: the translations against the real test images of the target domain. On a data set
with true translations (the synthetic set), the exact L1/PSNR/SSIM of each translation against
its truth is measured as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import save_image

from unpaired.callbacks.image_grid import image_grid
from unpaired.data.datamodule import UnpairedDataModule
from unpaired.data.domains import DomainImages
from unpaired.domains import Translation
from unpaired.evaluation.html import Row, write_html
from unpaired.evaluation.images import chunks, same_shape_groups, to_uint8
from unpaired.metrics.fid import KID_SUBSETS, frechet_distance, kernel_inception_distance
from unpaired.metrics.ground_truth import per_image_errors, per_image_ssim
from unpaired.metrics.inception import RESIZE, InceptionFeatures
from unpaired.models.base import GenerativeModule

log = logging.getLogger(__name__)

#: Rows of the grids saved beside the page and sent to wandb.
GRID_IMAGES = 8


@dataclass(frozen=True)
class MetricOptions:
    """``metrics.*`` of ``conf/evaluate.yaml``."""

    fid: bool = True
    kid: bool = True
    inception_weights: str | None = None
    kid_subset_size: int = 1000
    batch_size: int = 50


@dataclass
class Translated:
    """What one translation wrote: PNG paths per column, and per-image ground-truth errors."""

    columns: dict[str, list[Path]]
    errors: dict[str, list[float]]


def save_png(image: Tensor, path: Path) -> None:
    """Save one [-1, 1] image (C, H, W) as an 8-bit PNG."""
    array = to_uint8(image).permute(1, 2, 0).numpy()
    Image.fromarray(array[..., 0] if array.shape[2] == 1 else array).save(path)


def read_rgb(paths: Sequence[Path]) -> Tensor:
    """PNG files of one size as a uint8 (N, 3, H, W) batch (grey images repeated to RGB)."""
    arrays = [np.asarray(Image.open(path).convert("RGB")) for path in paths]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


class Evaluation:
    """One evaluation of ``module`` on ``datamodule``'s test split, written into ``output_dir``."""

    def __init__(
        self,
        module: GenerativeModule,
        datamodule: UnpairedDataModule,
        output_dir: Path,
        options: MetricOptions,
    ) -> None:
        self.module = module
        self.datamodule = datamodule
        self.output_dir = Path(output_dir)
        self.images_dir = self.output_dir / "images"
        self.options = options
        self.device = next(module.parameters()).device
        #: translation name (AtoB) -> (3, H, W) grid of the first images: input | translation |
        #: reconstruction
        self.grids: dict[str, Tensor] = {}

    # ------------------------------------------------------------------------------ images
    def _folder(self, name: str) -> Path:
        folder = self.images_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def save_real(self, domain: DomainImages) -> list[Path]:
        """The transformed test images of one domain as PNG in ``images/real_<name>``."""
        folder = self._folder(f"real_{domain.name}")
        saved = []
        for index in range(len(domain)):
            target = folder / f"{domain.stem(index)}.png"
            save_png(domain.load(index), target)
            saved.append(target)
        return saved

    @torch.no_grad()
    def translate(self, translation: Translation, domain: DomainImages) -> Translated:
        """Translate every image of ``domain`` as ``translation``; save translations (and
        reconstructions when the model makes the way back) as PNG; measure ground truth."""
        source, target = translation.source, translation.target
        back = translation.back
        names = {"fake": f"fake_{target}"}
        if back in self.module.translations:
            names["rec"] = f"rec_{source}"
        folders = {key: self._folder(name) for key, name in names.items()}
        columns: dict[str, list[Path]] = {key: [] for key in names}
        errors: dict[str, list[float]] = {}
        for chunk in chunks(list(range(len(domain))), self.options.batch_size):
            images = [domain.load(i) for i in chunk]
            for group in same_shape_groups([image.shape for image in images]):
                batch = torch.stack([images[i] for i in group]).to(self.device)
                outputs = {"fake": self.module.translate(batch, translation)}
                if "rec" in names:
                    outputs["rec"] = self.module.translate(outputs["fake"], back)
                for key, output in outputs.items():
                    for index, image in zip(group, output, strict=True):
                        path = folders[key] / f"{domain.stem(chunk[index])}.png"
                        save_png(image, path)
                        columns[key].append(path)
                if domain.has_truth:
                    truth = torch.stack([domain.truth(chunk[i]) for i in group])
                    self._measure(outputs["fake"].cpu(), truth, errors)
        return Translated(columns, errors)

    @staticmethod
    def _measure(fake: Tensor, truth: Tensor, errors: dict[str, list[float]]) -> None:
        values = {**per_image_errors(fake, truth), "SSIM": per_image_ssim(fake, truth)}
        for name, per_image in values.items():
            errors.setdefault(name, []).extend(per_image.tolist())

    # ----------------------------------------------------------------------------- metrics
    def features(self, extractor: Callable[[Tensor], Tensor], paths: list[Path]) -> Tensor:
        """Inception features of PNG files, read back from disk as the papers' tools do."""
        batches = []
        for chunk in chunks(paths, self.options.batch_size):
            for group in same_shape_groups([_png_size(path) for path in chunk]):
                images = read_rgb([chunk[i] for i in group]).to(self.device)
                batches.append(extractor(images).double().cpu())
        return torch.cat(batches)

    def run(self) -> dict[str, Any]:
        """Translate, save, measure; write ``index.html``; return the results."""
        extractor = self._extractor()  # first: missing weights stop it before any work
        self.datamodule.prepare_data()
        self.datamodule.setup("validate")
        dataset = self.datamodule.val_dataset
        assert dataset is not None  # setup built it
        domains = {name: dataset.images_of(name) for name in self.module.domains}
        real = {name: self.save_real(domain) for name, domain in domains.items()}
        translated = {
            translation: self.translate(translation, domains[translation.source])
            for translation in self.module.translations
        }
        results: dict[str, Any] = {}
        real_features: dict[str, Tensor] = {}
        for translation, output in translated.items():
            source, target = translation.source, translation.target
            entry: dict[str, Any] = {
                "inputs": str(self.images_dir / f"real_{source}"),
                "translations": str(output.columns["fake"][0].parent),
                "reference": str(self.images_dir / f"real_{target}"),
                "reference_source": str(domains[target].source),
                "n_translated": len(output.columns["fake"]),
                "n_reference": len(real[target]),
            }
            if extractor is not None:
                if target not in real_features:
                    real_features[target] = self.features(extractor, real[target])
                fake_features = self.features(extractor, output.columns["fake"])
                entry.update(self._distances(real_features[target], fake_features))
            if output.errors:
                entry["ground_truth"] = {
                    name: float(np.mean(values)) for name, values in output.errors.items()
                }
            results[str(translation)] = entry
        results["protocol"] = self._protocol(extractor)
        self._write_page(real, translated)
        self.grids = self._save_grids(real, translated)
        return results

    def _extractor(self) -> InceptionFeatures | None:
        if not (self.options.fid or self.options.kid):
            return None
        return InceptionFeatures(self.options.inception_weights).to(self.device)

    def _distances(self, real: Tensor, fake: Tensor) -> dict[str, float | int]:
        values: dict[str, float | int] = {}
        if self.options.fid:
            values["fid"] = frechet_distance(real, fake)
        if self.options.kid:
            mean, std, size = kernel_inception_distance(real, fake, self.options.kid_subset_size)
            values.update(kid=mean, kid_std=std, kid_subset_size=size)
        return values

    def _protocol(self, extractor: InceptionFeatures | None) -> dict[str, Any]:
        protocol: dict[str, Any] = {
            "images": "8-bit PNG files: the translations, and the test images of the target "
            "domain after the data's deterministic test transform",
        }
        if extractor is not None:
            protocol.update(
                inception_weights=str(extractor.weights_path),
                resize=RESIZE,
                kid_subsets=KID_SUBSETS,
            )
        return protocol

    def _write_page(self, real: dict[str, list[Path]], translated: dict[str, Translated]) -> None:
        sections: dict[str, list[Row]] = {}
        for translation, output in translated.items():
            source, target = translation.source, translation.target
            titles = {"fake": f"translation ({target})", "rec": f"reconstruction ({source})"}
            rows = []
            for index, input_path in enumerate(real[source]):
                row = {f"input ({source})": input_path}
                row.update({titles[key]: paths[index] for key, paths in output.columns.items()})
                rows.append(row)
            sections[f"{source} → {target}"] = rows
        write_html(self.output_dir / "index.html", "unpaired evaluation", sections, width=256)

    def _save_grids(
        self, real: dict[str, list[Path]], translated: dict[str, Translated]
    ) -> dict[str, Tensor]:
        grids = {}
        for translation, output in translated.items():
            columns = {"input": real[translation.source], **output.columns}
            visuals = {
                key: read_rgb(paths[:GRID_IMAGES]).float() / 127.5 - 1
                for key, paths in columns.items()
            }
            grids[str(translation)] = image_grid(visuals, GRID_IMAGES)
            save_image(grids[str(translation)], self.output_dir / f"grid_{translation}.png")
        return grids


def _png_size(path: Path) -> tuple[int, int]:
    """The size of a PNG file (only its header is read)."""
    with Image.open(path) as image:
        return image.size

"""Evaluate trained models on the test split, as the papers did, one or several side by side.

Every test image of both domains is passed through the data's deterministic test transform and
saved as PNG (``images/real_A``, ``images/real_B``: one folder per domain, by name), and so is its
true translation where the data set knows it (``images/true_B``: the truth of A -> B). Each
translation a model makes translates its source domain, and its translations (and, when it also
makes the way back, the reconstructions) are saved as PNG too (``images/fake_B``,
``images/rec_A``, ...; ``images/<label>/fake_B`` for each model of a comparison; among more than
two domains the folders of a translation are named after it, ``images/fake_warm_to_cool``). FID
and KID are then computed from the PNG files: the translations against the real test images of
the target domain. On a data set with true translations (the synthetic sets; every pair of the
three-style set), the exact L1/PSNR/SSIM of each translation against its truth is measured as
well, per image and on average. A model that draws styles (StarGAN v2, MUNIT) is measured by the
multimodal protocol as well (:mod:`unpaired.evaluation.styles`): FID latent- and
reference-guided and LPIPS diversity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image
from rich.progress import Progress
from torch import Tensor
from torchvision.utils import save_image

from unpaired.callbacks.image_grid import image_grid
from unpaired.data.datamodule import UnpairedDataModule
from unpaired.data.domains import DomainImages
from unpaired.domains import Translation
from unpaired.errors import ConfigError
from unpaired.evaluation.html import ImageRow, Section, write_page
from unpaired.evaluation.images import chunks, same_shape_groups, to_uint8
from unpaired.evaluation.results import per_image_caption
from unpaired.evaluation.styles import GUIDES, StyleOptions, evaluate_styles, reference_batches
from unpaired.inference.styles import is_multimodal
from unpaired.metrics.fid import KID_SUBSETS, frechet_distance, kernel_inception_distance
from unpaired.metrics.ground_truth import (
    per_clip_temporal_error,
    per_image_errors,
    per_image_ssim,
)
from unpaired.metrics.inception import RESIZE, InceptionFeatures
from unpaired.metrics.lpips import LPIPS, SCALE, SHIFT
from unpaired.metrics.warping import RaftFlow, clip_warping_error

log = logging.getLogger(__name__)

#: Rows of the grids saved beside the page and sent to wandb.
GRID_IMAGES = 8
PAGE_FILE = "index.html"
#: The per-image error the page sorts its rows by, worst first.
SORT_ERROR = "L1"


@dataclass(frozen=True)
class MetricOptions:
    """``metrics.*`` of ``conf/evaluate.yaml``."""

    fid: bool = True
    kid: bool = True
    inception_weights: str | None = None
    kid_subset_size: int = 1000
    batch_size: int = 50
    warping_error: bool = False
    raft_weights: str | None = None
    raft_model: str = "small"
    #: translations per image of the multimodal protocol (0: none)
    outputs_per_image: int = 10
    alexnet_weights: str | None = None
    lpips_weights: str | None = None
    #: the random latent codes and reference draws of the multimodal protocol
    style_seed: int = 0


class Translates(Protocol):
    """What an evaluation asks of a model: a trained module (``GenerativeModule``), or one
    exported generator (:class:`unpaired.evaluation.load.ExportedGenerator`)."""

    @property
    def domains(self) -> Sequence[str]: ...

    @property
    def translations(self) -> Sequence[Translation]: ...

    def translate(self, images: Tensor, direction: Translation) -> Tensor: ...


@dataclass(frozen=True)
class EvaluatedModel:
    """A model to evaluate: its ``label`` (its column on the page and, in a comparison, its
    images' folder), the model, and what ``results.json`` records of it (``about``: the
    checkpoint, the model class, the weights used, a summary of its training)."""

    label: str
    module: Translates
    about: dict[str, Any] = field(default_factory=dict)


@dataclass
class Translated:
    """What one translation wrote: PNG paths per column (``fake``, ``rec``), per-image
    ground-truth errors (metric -> one value per image, in the images' order), and for frames
    of clips the temporal error of each clip (``TL1``)."""

    columns: dict[str, list[Path]]
    errors: dict[str, list[float]]
    clip_errors: dict[str, list[float]] = field(default_factory=dict)

    def errors_of(self, index: int) -> dict[str, float]:
        return {name: values[index] for name, values in self.errors.items()}


def save_png(image: Tensor, path: Path) -> None:
    """Save one [-1, 1] image (C, H, W) as an 8-bit PNG."""
    array = to_uint8(image).permute(1, 2, 0).numpy()
    Image.fromarray(array[..., 0] if array.shape[2] == 1 else array).save(path)


def read_rgb(paths: Sequence[Path]) -> Tensor:
    """PNG files of one size as a uint8 (N, 3, H, W) batch (grey images repeated to RGB)."""
    arrays = [np.asarray(Image.open(path).convert("RGB")) for path in paths]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


class Evaluation:
    """One evaluation of ``models`` on ``datamodule``'s test split, written into ``output_dir``:
    the images, ``index.html`` and the grids; :meth:`run` returns the numbers.

    With one model, ``results`` hold its entries at the top level; with several (a comparison),
    in ``models``, one per model (:mod:`unpaired.evaluation.results`).
    """

    def __init__(
        self,
        models: Sequence[EvaluatedModel],
        datamodule: UnpairedDataModule,
        output_dir: Path,
        options: MetricOptions,
        device: torch.device | str = "cpu",
        progress: Progress | None = None,
    ) -> None:
        labels = [model.label for model in models]
        if not models or len(set(labels)) != len(labels):
            raise ConfigError(f"models to evaluate need distinct labels; got {labels}")
        self.models = list(models)
        #: every domain of the models, in order of appearance
        self.domain_names = list(dict.fromkeys(n for model in models for n in model.module.domains))
        self.datamodule = datamodule
        self.output_dir = Path(output_dir)
        self.images_dir = self.output_dir / "images"
        self.options = options
        #: where the models run, and so where the images are sent
        self.device = torch.device(device)
        #: translation name (AtoB) -> (3, H, W) labelled grid of the first images, with the
        #: page's columns
        self.grids: dict[str, Tensor] = {}
        #: translation name -> the grid's column titles
        self.grid_columns: dict[str, list[str]] = {}
        #: the optical flow of the warping error of clips (``metrics.warping_error``)
        self.flow: RaftFlow | None = None
        #: where the translations and the Inception features show how far they are (a command's
        #: bars); None: nowhere
        self.progress = progress

    def _counter(self, description: str, total: int) -> Callable[[int], None]:
        """A function that counts ``n`` more of ``total`` items done on a new bar."""
        if self.progress is None:
            return lambda n: None
        progress = self.progress
        task = progress.add_task(description, total=total)
        return lambda n: progress.advance(task, n)

    @property
    def comparison(self) -> bool:
        return len(self.models) > 1

    # ------------------------------------------------------------------------------ images
    def _folder(self, name: str, model: EvaluatedModel | None = None) -> Path:
        parent = self.images_dir / model.label if model and self.comparison else self.images_dir
        folder = parent / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _save_all(
        self, folder: Path, domain: DomainImages, load: Callable[[int], Tensor]
    ) -> list[Path]:
        saved = []
        for index in range(len(domain)):
            target = folder / f"{domain.stem(index)}.png"
            save_png(load(index), target)
            saved.append(target)
        return saved

    def save_real(self, domain: DomainImages) -> list[Path]:
        """The transformed test images of one domain as PNG in ``images/real_<name>``."""
        return self._save_all(self._folder(f"real_{domain.name}"), domain, domain.load)

    def _translation_folder(self, kind: str, domain: str, translation: Translation) -> str:
        """``<kind>_<domain>`` (``fake_B``, ``rec_A``, ``true_B``) among two domains; among more,
        one target is reached from several sources and one source left for several targets, so
        the folder is named after the translation (``fake_warm_to_cool``) lest they overwrite
        each other's images."""
        return f"{kind}_{translation}" if len(self.domain_names) > 2 else f"{kind}_{domain}"

    def save_truth(self, domain: DomainImages, translation: Translation) -> list[Path]:
        """The true translations of one domain's test images as PNG in ``images/true_<target>``
        (``true_<translation>`` among more than two domains)."""
        target = translation.target
        folder = self._folder(self._translation_folder("true", target, translation))
        return self._save_all(folder, domain, lambda index: domain.truth(index, target))

    @torch.no_grad()
    def translate(
        self, model: EvaluatedModel, translation: Translation, domain: DomainImages
    ) -> Translated:
        """Translate every image of ``domain`` as ``translation``; save translations (and
        reconstructions when the model makes the way back) as PNG; measure ground truth."""
        module = model.module
        source, target = translation.source, translation.target
        back = translation.back
        names = {"fake": self._translation_folder("fake", target, translation)}
        if back in module.translations:
            names["rec"] = self._translation_folder("rec", source, translation)
        folders = {key: self._folder(name, model) for key, name in names.items()}
        columns: dict[str, list[Path]] = {key: [] for key in names}
        errors: dict[str, list[float]] = {}
        label = f"{model.label} " if self.comparison else ""
        done = self._counter(f"translating {label}{source} → {target}", len(domain))
        temporal = domain.clips is not None and domain.has_truth_for(target)
        warping = domain.clips is not None and self.flow is not None
        fakes: dict[int, Tensor] = {}  # frames of clips, for the temporal and warping errors
        for chunk in chunks(list(range(len(domain))), self.options.batch_size):
            images = [domain.load(i) for i in chunk]
            for group in same_shape_groups([image.shape for image in images]):
                batch = torch.stack([images[i] for i in group]).to(self.device)
                outputs = {"fake": module.translate(batch, translation)}
                if "rec" in names:
                    outputs["rec"] = module.translate(outputs["fake"], back)
                for key, output in outputs.items():
                    for index, image in zip(group, output, strict=True):
                        path = folders[key] / f"{domain.stem(chunk[index])}.png"
                        save_png(image, path)
                        columns[key].append(path)
                if domain.has_truth_for(target):
                    truth = torch.stack([domain.truth(chunk[i], target) for i in group])
                    self._measure(outputs["fake"].cpu(), truth, errors)
                done(len(group))
                if temporal or warping:
                    fakes.update(zip((chunk[i] for i in group), outputs["fake"].cpu(), strict=True))
        clip_errors = {}
        if warping:
            assert domain.clips is not None and self.flow is not None
            clip_errors["WE"] = [
                clip_warping_error(
                    torch.stack([domain.load(i) for i in clip]).to(self.device),
                    torch.stack([fakes[i] for i in clip]).to(self.device),
                    self.flow,
                )
                for clip in domain.clips
            ]
        if temporal:
            assert domain.clips is not None
            clip_errors["TL1"] = [
                self._temporal_error(domain, target, clip, fakes) for clip in domain.clips
            ]
        return Translated(columns, errors, clip_errors)

    @staticmethod
    def _temporal_error(
        domain: DomainImages, target: str, clip: Sequence[int], fakes: dict[int, Tensor]
    ) -> float:
        """The temporal error of one clip's translation into ``target`` against its truth (0
        for one frame)."""
        if len(clip) < 2:
            return 0.0
        fake = torch.stack([fakes[index] for index in clip])[None]
        truth = torch.stack([domain.truth(index, target) for index in clip])[None]
        return float(per_clip_temporal_error(fake, truth)[0])

    @staticmethod
    def _measure(fake: Tensor, truth: Tensor, errors: dict[str, list[float]]) -> None:
        values = {**per_image_errors(fake, truth), "SSIM": per_image_ssim(fake, truth)}
        for name, per_image in values.items():
            errors.setdefault(name, []).extend(per_image.tolist())

    # ----------------------------------------------------------------------------- metrics
    def features(self, extractor: Callable[[Tensor], Tensor], paths: list[Path]) -> Tensor:
        """Inception features of PNG files, read back from disk as the papers' tools do."""
        batches = []
        shown = paths[0].parent.relative_to(self.images_dir)  # real_B, fake_B, <label>/fake_B
        done = self._counter(f"Inception features of {shown}", len(paths))
        for chunk in chunks(paths, self.options.batch_size):
            for group in same_shape_groups([_png_size(path) for path in chunk]):
                images = read_rgb([chunk[i] for i in group]).to(self.device)
                batches.append(extractor(images).double().cpu())
                done(len(group))
        return torch.cat(batches)

    def run(self) -> dict[str, Any]:
        """Translate, save, measure; write ``index.html`` and the grids; return the results."""
        extractor = self._extractor()  # first: missing weights stop it before any work
        self.flow = (
            RaftFlow(self.options.raft_weights, self.options.raft_model).to(self.device)
            if self.options.warping_error
            else None
        )
        lpips = self._lpips()
        self.datamodule.prepare_data()
        self.datamodule.setup("validate")
        dataset = self.datamodule.val_dataset
        assert dataset is not None  # setup built it
        domains = {name: dataset.images_of(name) for name in self.domain_names}
        translations = list(
            dict.fromkeys(t for model in self.models for t in model.module.translations)
        )
        real = {name: self.save_real(domain) for name, domain in domains.items()}
        truths = {
            translation: self.save_truth(domains[translation.source], translation)
            for translation in translations
            if domains[translation.source].has_truth_for(translation.target)
        }
        translated = {
            model.label: {
                translation: self.translate(model, translation, domains[translation.source])
                for translation in model.module.translations
            }
            for model in self.models
        }
        real_features: dict[str, Tensor] = {}
        entries = []
        for model in self.models:
            entry: dict[str, Any] = {"label": model.label} if self.comparison else {}
            entry.update(model.about)
            for translation, output in translated[model.label].items():
                target = translation.target
                if extractor is not None and target not in real_features:
                    real_features[target] = self.features(extractor, real[target])
                entry[str(translation)] = self._results(
                    translation, output, domains, real, extractor, real_features.get(target)
                )
            if lpips is not None and is_multimodal(model.module):
                self._styles(model, entry, domains, lpips, extractor, real_features)
            entries.append(entry)
        results = {"models": entries} if self.comparison else entries[0]
        results["protocol"] = self._protocol(extractor, lpips)
        sections = {
            translation: self._section(translation, real, truths, translated)
            for translation in translations
        }
        title = f"Evaluation of {', '.join(model.label for model in self.models)}"
        write_page(self.output_dir / PAGE_FILE, title, results, list(sections.values()))
        self._save_grids(sections)
        return results

    def _results(
        self,
        translation: Translation,
        output: Translated,
        domains: dict[str, DomainImages],
        real: dict[str, list[Path]],
        extractor: InceptionFeatures | None,
        real_features: Tensor | None,
    ) -> dict[str, Any]:
        source, target = translation.source, translation.target
        entry: dict[str, Any] = {
            "inputs": str(self.images_dir / f"real_{source}"),
            "translations": str(output.columns["fake"][0].parent),
            "reference": str(self.images_dir / f"real_{target}"),
            "reference_source": str(domains[target].source),
            "n_translated": len(output.columns["fake"]),
            "n_reference": len(real[target]),
        }
        if extractor is not None and real_features is not None:
            fake_features = self.features(extractor, output.columns["fake"])
            entry.update(self._distances(real_features, fake_features))
        if output.errors:
            truth_errors = {k: v for k, v in output.clip_errors.items() if k != "WE"}
            entry["ground_truth"] = {
                name: float(np.mean(values))
                for name, values in {**output.errors, **truth_errors}.items()
            }
        if "WE" in output.clip_errors:
            entry["warping_error"] = float(np.mean(output.clip_errors["WE"]))
        return entry

    def _lpips(self) -> LPIPS | None:
        """LPIPS when a model draws styles and the multimodal protocol is asked for."""
        if self.options.outputs_per_image < 1 or not any(
            is_multimodal(model.module) for model in self.models
        ):
            return None
        if self.options.outputs_per_image < 2:
            raise ConfigError(
                f"metrics.outputs_per_image={self.options.outputs_per_image}: LPIPS diversity "
                "needs at least 2 outputs per image (the paper's 10), or 0 to skip it"
            )
        try:
            lpips = LPIPS(self.options.alexnet_weights, self.options.lpips_weights)
        except ConfigError as error:
            raise ConfigError(
                f"{error}; or metrics.outputs_per_image=0 to skip the multimodal protocol"
            ) from error
        return lpips.to(self.device)

    def _styles(
        self,
        model: EvaluatedModel,
        entry: dict[str, Any],
        domains: dict[str, DomainImages],
        lpips: LPIPS,
        extractor: InceptionFeatures | None,
        real_features: dict[str, Tensor],
    ) -> None:
        """The multimodal protocol: ``styles`` in each translation's entry (FID and LPIPS per
        guide), and ``styles_mean`` in the model's, averaged over the pairs."""
        options = StyleOptions(
            self.options.outputs_per_image, self.options.batch_size, self.options.style_seed
        )
        draws = torch.Generator().manual_seed(self.options.style_seed)
        module = model.module
        references = {
            name: reference_batches(domains[name], self.options.batch_size, draws)
            for name in dict.fromkeys(t.target for t in module.translations)
        }
        for translation in module.translations:
            measured = evaluate_styles(
                module,
                translation,
                domains[translation.source],
                references,
                lpips,
                lambda name: self._folder(name, model),
                save_png,
                options,
                self.device,
            )
            for values in measured.values():
                outputs = values.pop("outputs")
                values["n_translated"] = len(outputs)
                if extractor is not None and self.options.fid:
                    real = real_features[translation.target]
                    values["fid"] = frechet_distance(real, self.features(extractor, outputs))
            entry[str(translation)]["styles"] = measured
        pairs = [entry[str(t)]["styles"] for t in module.translations]
        entry["styles_mean"] = {
            guide: {
                metric: float(np.mean([pair[guide][metric] for pair in pairs]))
                for metric in ("fid", "lpips")
                if metric in pairs[0][guide]
            }
            for guide in GUIDES
        }

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

    def _protocol(self, extractor: InceptionFeatures | None, lpips: LPIPS | None) -> dict[str, Any]:
        protocol: dict[str, Any] = {
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "images": "8-bit PNG files: the translations, and the test images of the target "
            "domain after the data's deterministic test transform",
        }
        if extractor is not None:
            protocol.update(
                inception_weights=str(extractor.weights_path),
                resize=RESIZE,
                kid_subsets=KID_SUBSETS,
            )
        if lpips is not None:
            protocol["styles"] = {
                "outputs_per_image": self.options.outputs_per_image,
                "seed": self.options.style_seed,
                "pairs": "every source -> target translation of the model, FID and LPIPS per "
                "pair, then their mean over the pairs (styles_mean)",
                "latent": "each image its own random latent code per output",
                "reference": "references from the target's test images, shuffled, in batches "
                f"of {self.options.batch_size} (drop last), one batch per output of a batch "
                "of sources, reshuffled when used up (the authors' eval loader)",
                "fid": "all outputs of a pair (PNG) against the target's real test images",
                "lpips": "mean over the images of the mean pairwise LPIPS between an image's "
                f"outputs; AlexNet ReLU features, inputs shifted by {list(SHIFT)} and scaled "
                f"by {list(SCALE)} (the authors' metrics/lpips.py)",
                **lpips.files,
            }
        return protocol

    # -------------------------------------------------------------------------------- page
    def _section(
        self,
        translation: Translation,
        real: dict[str, list[Path]],
        truths: dict[Translation, list[Path]],
        translated: dict[str, dict[Translation, Translated]],
    ) -> Section:
        """input | translation | reconstruction | truth for one model; input | one translation
        per model | truth for a comparison; rows in the images' order."""
        source, target = translation.source, translation.target
        columns: list[tuple[str, list[Path], Translated | None]] = [
            (f"input {source}", real[source], None)
        ]
        for model in self.models:
            output = translated[model.label].get(translation)
            if output is None:
                continue
            title = model.label if self.comparison else f"fake {target}"
            columns.append((title, output.columns["fake"], output))
            if "rec" in output.columns and not self.comparison:
                columns.append((f"rec {source}", output.columns["rec"], None))
        if translation in truths:
            columns.append((f"true {target}", truths[translation], None))
        rows = []
        for index in range(len(real[source])):
            measured = [
                output.errors_of(index) for *_, output in columns if output and output.errors
            ]
            rows.append(
                ImageRow(
                    name=real[source][index].stem,
                    images=[paths[index] for _, paths, _ in columns],
                    captions=[
                        per_image_caption(output.errors_of(index)) if output else ""
                        for *_, output in columns
                    ],
                    error=float(np.mean([e[SORT_ERROR] for e in measured])) if measured else None,
                )
            )
        measured_by = f"the per-image {SORT_ERROR} against the true {target}"
        if self.comparison:
            measured_by += " (the mean over the models)"
        return Section(f"{source} → {target}", [title for title, *_ in columns], rows, measured_by)

    def _save_grids(self, sections: dict[Translation, Section]) -> None:
        """``grid_<translation>.png``: the page's columns for its first images, labelled."""
        for translation, section in sections.items():
            rows = section.rows[:GRID_IMAGES]
            visuals = {
                title: read_rgb([row.images[column] for row in rows]).float() / 127.5 - 1
                for column, title in enumerate(section.columns)
            }
            grid = image_grid(visuals, GRID_IMAGES)
            save_image(grid, self.output_dir / f"grid_{translation}.png")
            self.grids[str(translation)] = grid
            self.grid_columns[str(translation)] = section.columns


def _png_size(path: Path) -> tuple[int, int]:
    """The size of a PNG file (only its header is read)."""
    with Image.open(path) as image:
        return image.size

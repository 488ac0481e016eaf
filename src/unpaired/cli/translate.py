"""``unpaired-translate``: translate images at their own size with any trained-model file.

    unpaired-translate ckpt=run/checkpoints/last.ckpt input=photos/ output=out/ direction=AtoB

Every image under ``input`` (a folder, searched recursively, or one file) is translated at its
own resolution (padded as the generator needs, cropped back: :mod:`unpaired.data.padding`) and
written to ``output`` under the same relative path, as PNG (lossless: re-encoding a JPEG would
add its own artefacts to the result). The model file is read by
:func:`unpaired.inference.load_translator`.

Batches: images of the same size are stacked, up to ``batch_size``; at most ``batch_size``
images wait for company at a time (then the largest group goes alone), so a folder of photos of
many sizes still runs in bounded memory, mostly one by one.

Video, frame by frame with any image method (Recycle-GAN's translation is per frame too): an
``input`` video file (mp4, avi, mov, webm, mkv) is decoded and its frames translated; an
``output`` ending in a video extension gets a video of the same frame rate, size and frame count
(a folder of frames as input is written at ``fps``); any other ``output`` gets the frames as
PNG files, ``<output>/<video name>/000000.png ...``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.utils import save_image

from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.screen import count_progress, quiet_third_parties
from unpaired.config import config_dir
from unpaired.data.io import load_image
from unpaired.data.padding import crop_padding, pad_to_multiple
from unpaired.data.single import SingleImageDataset
from unpaired.data.transforms import to_unit_range
from unpaired.data.video import is_video_file, read_frames, video_info, write_video
from unpaired.errors import ConfigError, DataError
from unpaired.evaluation.load import load_module
from unpaired.inference import load_translator
from unpaired.inference.load import Translator, resolve_device, size_multiple
from unpaired.inference.style import reference_style_translator, translates_by_reference_style
from unpaired.inference.styles import StyleTranslator, translation_into
from unpaired.models.base import GenerativeModule

log = logging.getLogger(__name__)
Item = dict[str, Any]


def translate(cfg: DictConfig) -> list[Path]:
    """Translate as ``cfg`` says (conf/translate.yaml); returns the files written."""
    if int(cfg.batch_size) < 1:
        raise ConfigError(f"batch_size must be >= 1, got {cfg.batch_size}")
    source, output = Path(cfg.input).expanduser(), Path(cfg.output).expanduser()
    if is_video_file(source) or is_video_file(output):
        return _translate_video(cfg, source, output)
    dataset = SingleImageDataset(source)
    if cfg.samples is not None or cfg.style_ref is not None or cfg.target is not None:
        device = resolve_device(cfg.device)
        module, weights = load_module(cfg.ckpt, device, cfg.inference.weights)
        if not translates_by_reference_style(module):  # multimodal: StarGAN v2, MUNIT
            return translate_styles(cfg, module, weights, dataset, output)
        if cfg.samples is not None or cfg.target is not None or cfg.style_ref is None:
            raise ConfigError(
                f"a {type(module).__name__} model translates in the style of given images: pass "
                "style_ref=<image> (or a list, with style_weights=), without samples= or target="
            )
        translator = reference_style_translator(
            module,
            OmegaConf.to_container(cfg.style_ref)
            if OmegaConf.is_list(cfg.style_ref)
            else cfg.style_ref,
            None if cfg.style_weights is None else list(cfg.style_weights),
            float(cfg.alpha),
            bool(cfg.preserve_color),
            device,
        )
    else:
        translator = _translator(cfg)
    targets = _targets(dataset.paths, dataset.folder, output)
    log.info("translating %d images %s on %s", len(dataset), cfg.direction, translator.device)
    loader = DataLoader(
        dataset, batch_size=None, num_workers=int(cfg.num_workers), pin_memory=False
    )
    written = []
    with count_progress() as progress:
        task = progress.add_task("translating", total=len(dataset))
        for batch in same_size_batches(loader, int(cfg.batch_size)):
            results = translator(torch.stack([item["image"] for item in batch])).cpu()
            for item, result in zip(batch, results, strict=True):
                target = targets[item["path"]]
                target.parent.mkdir(parents=True, exist_ok=True)
                save_image((result.float() + 1) / 2, target)
                written.append(target)
            progress.advance(task, len(batch))
    log.info("wrote %d images to %s", len(written), output)
    return written


def _translator(cfg: DictConfig) -> Translator:
    return load_translator(
        cfg.ckpt,
        cfg.direction,
        cfg.device,
        OmegaConf.to_container(cfg.generator),
        **OmegaConf.to_container(cfg.inference),
    )


def _translate_video(cfg: DictConfig, source: Path, output: Path) -> list[Path]:
    """A video file or a folder of frames to a video file or a folder of frames (see the
    module), ``batch_size`` frames at a time."""
    if is_video_file(source):
        frames, fps = read_frames(source), video_info(source).fps
    else:
        dataset = SingleImageDataset(source)
        frames = np.stack([np.asarray(load_image(path)) for path in dataset.paths])
        fps = Fraction(str(cfg.fps))
    translator = _translator(cfg)
    log.info("translating %d frames %s on %s", len(frames), cfg.direction, translator.device)
    translated = np.empty_like(frames)
    with count_progress() as progress:
        task = progress.add_task("translating", total=len(frames))
        for start in range(0, len(frames), int(cfg.batch_size)):
            chunk = torch.from_numpy(frames[start : start + int(cfg.batch_size)])
            results = translator(to_unit_range(chunk.permute(0, 3, 1, 2))).cpu()
            pixels = ((results.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
            translated[start : start + len(chunk)] = pixels.permute(0, 2, 3, 1).numpy()
            progress.advance(task, len(chunk))
    if is_video_file(output):
        write_video(output, translated, fps)
        log.info("wrote %d frames at %s fps to %s", len(translated), fps, output)
        return [output]
    folder = output / source.stem
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, pixels in enumerate(translated):
        written.append(folder / f"{index:06d}.png")
        Image.fromarray(pixels).save(written[-1])
    log.info("wrote %d frames to %s", len(written), folder)
    return written


def translate_styles(
    cfg: DictConfig,
    module: GenerativeModule,
    weights: str,
    dataset: SingleImageDataset,
    output: Path,
) -> list[Path]:
    """A multimodal ``module``'s translations into ``cfg.target`` (or ``cfg.direction``):
    ``samples`` per image, or one per style reference, written as ``<name>_sample<j>.png`` or
    ``<name>_<reference>.png`` (:mod:`unpaired.inference.styles`). ``target`` alone: one
    translation per image with the model's fixed style."""
    device = next(module.parameters()).device
    translation = translation_into(module, cfg.target, cfg.direction)
    if cfg.samples is None and cfg.style_ref is None:
        styles = None
    else:
        styles = StyleTranslator(module, translation, cfg.samples, cfg.style_ref, int(cfg.seed))
    log.info("translating %d images %s (%s weights)", len(dataset), translation, weights)
    written = []
    with count_progress() as progress:
        task = progress.add_task("translating", total=len(dataset))
        for index in range(len(dataset)):
            item = dataset[index]
            stem = output / Path(item["path"]).with_suffix("")
            if styles is None:
                with torch.no_grad():
                    padded, padding = pad_to_multiple(
                        item["image"][None].to(device), size_multiple(module)
                    )
                    results = [
                        ("", crop_padding(module.translate(padded, translation), padding)[0])
                    ]
            else:
                results = [(f"_{name}", image) for name, image in styles(item["image"])]
            for suffix, result in results:
                target = stem.with_name(f"{stem.name}{suffix}.png")
                target.parent.mkdir(parents=True, exist_ok=True)
                save_image((result.float().cpu() + 1) / 2, target)
                written.append(target)
            progress.advance(task)
    log.info("wrote %d images to %s", len(written), output)
    return written


def _targets(paths: list[Path], folder: Path, output: Path) -> dict[str, Path]:
    """Relative path of each input -> its output file; two inputs must not share one."""
    targets: dict[str, Path] = {}
    seen: dict[Path, Path] = {}
    for path in paths:
        relative = path.relative_to(folder)
        target = output / relative.with_suffix(".png")
        if target in seen:
            raise DataError(
                f"{seen[target]} and {path} would both be written to {target}: rename one"
            )
        seen[target] = path
        targets[relative.as_posix()] = target
    return targets


def same_size_batches(items: Iterable[Item], batch_size: int) -> Iterator[list[Item]]:
    """Group ``items`` (each with an ``image`` tensor) into batches of images of one size.

    A group is yielded when it holds ``batch_size`` images; when ``batch_size`` images are
    waiting in all, the largest group is yielded as it is, which bounds the memory held.
    """
    groups: dict[tuple[int, ...], list[Item]] = {}
    waiting = 0
    for item in items:
        group = groups.setdefault(tuple(item["image"].shape), [])
        group.append(item)
        waiting += 1
        if len(group) == batch_size or waiting >= batch_size:
            key = max(groups, key=lambda size: len(groups[size]))
            batch = groups.pop(key)
            waiting -= len(batch)
            yield batch
    yield from groups.values()


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="translate")
def _main(cfg: DictConfig) -> Any:
    return run_reporting_user_errors(translate, cfg)


def main() -> None:
    quiet_third_parties()
    _main()


if __name__ == "__main__":
    main()

"""Data-loading throughput: our training pipeline against the CycleGAN authors', side by side.

Both pipelines turn a JPEG file into a training tensor with the authors' default preprocessing
(square resize to ``load_size``, bicubic; random ``crop_size`` crop; random horizontal flip;
values in [-1, 1]):

- **authors'**: ``Image.open(path).convert("RGB")``, then torchvision's ``Resize``, ``RandomCrop``,
  ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize`` on PIL images;
- **ours**: :func:`unpaired.data.io.load_image` (which also applies the EXIF orientation) and
  :func:`unpaired.data.transforms.build_transform`, exactly as the training data set calls them.

Throughput is measured in one process with one torch thread, which is what one data-loader worker
has: images per second per worker. The pipelines run in alternating rounds, so a change in the
machine's load affects both alike, and the median round is reported. The stage table times the
alternatives each step could use (the reason for the choices in :mod:`unpaired.data.transforms`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.io import decode_jpeg, read_file
from torchvision.transforms.v2 import functional as F

from unpaired.bench.measure import Throughput, alternate_rounds
from unpaired.data.io import load_image
from unpaired.data.transforms import build_transform, to_uint8_tensor, to_unit_range

Pipeline = Callable[[Path], torch.Tensor]


def write_jpegs(folder: Path, count: int, size: int = 256, seed: int = 0) -> list[Path]:
    """``count`` photo-like ``size`` x ``size`` JPEGs (smooth colour fields with grain, quality
    90): JPEG decoding time depends on the content, and pure noise would be unrealistically
    slow to decode."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC))
        grain = rng.normal(0, 8, smooth.shape)
        pixels = np.clip(smooth + grain, 0, 255).astype(np.uint8)
        path = folder / f"{index:04d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def authors_pipeline(load_size: int, crop_size: int) -> Pipeline:
    """The CycleGAN authors' ``get_transform`` for ``resize_and_crop`` with flips."""
    transform = T.Compose(
        [
            T.Resize([load_size, load_size], T.InterpolationMode.BICUBIC),
            T.RandomCrop(crop_size),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        ]
    )
    return lambda path: transform(Image.open(path).convert("RGB"))


def our_pipeline(load_size: int, crop_size: int) -> Pipeline:
    """What :class:`unpaired.data.unaligned.UnalignedDataset` does for one training image."""
    transform = build_transform("resize_and_crop", load_size, crop_size, flip=True, train=True)
    return lambda path: transform(load_image(path))


def measure(
    candidates: dict[str, Callable[[], object]], count: int, rounds: int
) -> list[Throughput]:
    """Time each candidate (a call that processes ``count`` images) in ``rounds`` alternating
    rounds, after one warm-up call each, with one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for run in candidates.values():
            run()
        rates = alternate_rounds(
            {name: _counting(run, count) for name, run in candidates.items()}, rounds
        )
    finally:
        torch.set_num_threads(threads)
    return [Throughput.of(name, values) for name, values in rates.items()]


def compare_pipelines(
    paths: Sequence[Path], load_size: int = 286, crop_size: int = 256, rounds: int = 5
) -> list[Throughput]:
    """Throughput of the authors' pipeline and ours over ``paths``."""
    pipelines = {
        "authors' (PIL + torchvision)": authors_pipeline(load_size, crop_size),
        "ours (unpaired)": our_pipeline(load_size, crop_size),
    }
    return measure(
        {name: _over(pipeline, paths) for name, pipeline in pipelines.items()}, len(paths), rounds
    )


def compare_stages(
    paths: Sequence[Path], load_size: int = 286, crop_size: int = 256, rounds: int = 5
) -> list[Throughput]:
    """Throughput of the alternatives for each step, on the same images."""
    images = [load_image(path) for path in paths]
    tensors = [to_uint8_tensor(image) for image in images]
    crops = [
        F.resize(tensor, [load_size] * 2, interpolation=F.InterpolationMode.BICUBIC)[
            :, :crop_size, :crop_size
        ]
        for tensor in tensors
    ]
    authors_to_tensor = T.Compose([T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    crop_images = [Image.fromarray(crop.permute(1, 2, 0).numpy()) for crop in crops]
    bicubic = Image.Resampling.BICUBIC
    candidates = {
        "decode: PIL (libjpeg-turbo)": _over(load_image, paths),
        "decode: torchvision.io.decode_jpeg": _over(
            lambda path: decode_jpeg(read_file(str(path))), paths
        ),
        f"resize to {load_size}: PIL bicubic": _over(
            lambda image: image.resize((load_size, load_size), bicubic), images
        ),
        f"resize to {load_size}: torch uint8 bicubic": _over(
            lambda tensor: F.resize(
                tensor, [load_size] * 2, interpolation=F.InterpolationMode.BICUBIC
            ),
            tensors,
        ),
        "to [-1, 1]: ToTensor + Normalize": _over(authors_to_tensor, crop_images),
        "to [-1, 1]: ours (uint8 last)": _over(to_unit_range, crops),
    }
    return measure(candidates, len(paths), rounds)


def max_difference(paths: Sequence[Path], load_size: int = 286, crop_size: int = 256) -> float:
    """Largest difference between the two pipelines' outputs, in 8-bit levels, with the same
    random crops and flips (both draw them from the torch RNG in the same order)."""
    authors, ours = authors_pipeline(load_size, crop_size), our_pipeline(load_size, crop_size)
    largest = 0.0
    for index, path in enumerate(paths):
        torch.manual_seed(index)
        expected = authors(path)
        torch.manual_seed(index)
        largest = max(largest, float((ours(path) - expected).abs().max()) * 127.5)
    return largest


def _counting(run: Callable[[], object], count: int) -> Callable[[], float]:
    def counted() -> float:
        run()
        return count

    return counted


def _over(step: Callable[[object], object], inputs: Sequence[object]) -> Callable[[], None]:
    def run() -> None:
        for item in inputs:
            step(item)

    return run

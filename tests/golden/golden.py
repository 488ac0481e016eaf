"""What the golden fixtures and the tests that read them share: seeded weights, seeded inputs,
summaries of large outputs, and the fixture file format.

A golden fixture holds what the AUTHORS' network computed (see README.md in this folder): their
state-dict key names and shapes, the outputs for a seeded input with seeded weights, and the
buffers that are not weights (the anti-aliasing filters). The weights and inputs themselves are
not stored: both sides make them with the functions below, from the authors' key names and
shapes and from seeds written in the fixture. No code of the authors is in this file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

GOLDEN_DIR = Path(__file__).resolve().parent

#: Buffers that are part of the architecture, not of the weights: kept as the network made them
#: (stored in the fixture as ``fixed.<key>``), never drawn from the seed.
FIXED_SUFFIXES = (".filt", ".num_batches_tracked")

#: Outputs with at most this many values are stored whole; larger ones are summarised.
FULL_LIMIT = 8192
#: Values kept of a summarised output, at seeded positions.
SAMPLED_VALUES = 1024


def is_fixed(key: str) -> bool:
    return key.endswith(FIXED_SUFFIXES)


def seeded_weights(shapes: Mapping[str, Sequence[int]], seed: int) -> dict[str, Tensor]:
    """Float32 values for every entry of a state dict given by key -> shape, except the fixed
    buffers, drawn from one ``torch.Generator`` seeded once, entry by entry in sorted key order.

    Magnitudes are those of a trained network rather than of an initialisation, so that every
    layer matters to the output: conv and linear weights N(0, 1/fan_in) (fan_in: the product of
    all but the first dimension), norm scales (1-d ``weight``, ``gamma``) 1 + N(0, 0.1^2),
    biases and shifts N(0, 0.1^2), running means N(0, 0.1^2), running variances U(0.5, 1.5).
    """
    generator = torch.Generator().manual_seed(seed)
    values: dict[str, Tensor] = {}
    for key in sorted(shapes):
        if is_fixed(key):
            continue
        shape = tuple(int(s) for s in shapes[key])
        name = key.rsplit(".", 1)[-1]
        normal = torch.randn(shape, generator=generator, dtype=torch.float32)
        if name == "running_var":
            value = torch.rand(shape, generator=generator, dtype=torch.float32) + 0.5
        elif name == "running_mean":
            value = 0.1 * normal
        elif len(shape) == 1 and name in ("weight", "gamma"):
            value = 1.0 + 0.1 * normal
        elif len(shape) == 1:
            value = 0.1 * normal
        else:
            value = normal / math.sqrt(math.prod(shape[1:]))
        values[key] = value
    return values


def seeded_input(shape: Sequence[int], seed: int) -> Tensor:
    """Images in [-1, 1) of ``shape`` (or any tensor of that shape), from a seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(tuple(shape), generator=generator) * 2 - 1


def seeded_normal(shape: Sequence[int], seed: int) -> Tensor:
    """N(0, 1) values of ``shape`` (style codes, feature maps) from a seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=generator)


def seeded_positions(count: int, total: int, seed: int) -> Tensor:
    """``count`` distinct positions in ``range(total)``, seeded (CUT's patch positions)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(total, generator=generator)[:count]


def landmark_heatmaps(points: Tensor, size: int = 64, sigma: float = 1.0) -> Tensor:
    """What a face-landmark network outputs, ``(N, L + 1, size, size)``: a Gaussian blob of
    peak 1 and width ``sigma`` pixels at each of the ``(N, L, 2)`` points (row, column in
    [-1, 1]), and an empty boundary heatmap last."""
    grid = torch.arange(size, dtype=torch.float32)
    centres = (points + 1) / 2 * (size - 1)
    rows = (grid - centres[..., 0:1]) ** 2
    columns = (grid - centres[..., 1:2]) ** 2
    blobs = torch.exp(-(rows[..., :, None] + columns[..., None, :]) / (2 * sigma**2))
    return torch.cat([blobs, torch.zeros_like(blobs[:, :1])], dim=1)


def summarize(name: str, output: Tensor) -> dict[str, Tensor]:
    """The tensors stored for the output ``name``: the output itself when it is small; otherwise
    its values at :data:`SAMPLED_VALUES` seeded positions (flat indices), its shape, and its
    per-channel (dim 1) mean and standard deviation."""
    output = output.detach().float().contiguous()
    if output.numel() <= FULL_LIMIT:
        return {f"out.{name}.full": output}
    index = seeded_positions(SAMPLED_VALUES, output.numel(), seed=output.numel()).sort().values
    channels = output.transpose(0, 1).flatten(1)
    return {
        f"out.{name}.index": index,
        f"out.{name}.shape": torch.tensor(output.shape),
        f"out.{name}.values": output.flatten()[index],
        f"out.{name}.channel_mean": channels.mean(1),
        f"out.{name}.channel_std": channels.std(1),
    }


def save_fixture(
    path: Path,
    metadata: Mapping[str, Any],
    outputs: Mapping[str, Tensor],
    fixed: Mapping[str, Tensor],
) -> None:
    """Write a fixture: the summaries of ``outputs``, the ``fixed`` buffers (``fixed.<key>``) and
    ``metadata`` (JSON) in the safetensors header."""
    tensors: dict[str, Tensor] = {}
    for name, output in outputs.items():
        tensors |= summarize(name, output)
    tensors |= {f"fixed.{key}": value.detach().clone().contiguous() for key, value in fixed.items()}
    metadata = {**metadata, "outputs": list(outputs)}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"golden": json.dumps(metadata)})


class Fixture:
    """A golden fixture read back: ``meta`` (the JSON header), ``keys`` (the authors' state-dict
    key -> shape, in their order), ``fixed`` buffers, and :meth:`check` of outputs."""

    def __init__(self, path: Path) -> None:
        from safetensors import safe_open

        self.path = path
        with safe_open(str(path), framework="pt") as file:
            self.meta: dict[str, Any] = json.loads(file.metadata()["golden"])
        self.tensors = load_file(str(path))
        self.keys: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in self.meta["keys"]}
        self.fixed = {
            key.removeprefix("fixed."): value
            for key, value in self.tensors.items()
            if key.startswith("fixed.")
        }

    @property
    def name(self) -> str:
        return self.meta["case"]

    def weights(self) -> dict[str, Tensor]:
        """The seeded weights, under the authors' key names, with the fixed buffers: the state
        dict the authors' network held when it computed the outputs."""
        return {**seeded_weights(self.keys, self.meta["weight_seed"]), **self.fixed}

    def inputs(self) -> dict[str, Tensor]:
        """The seeded inputs, by name."""
        made = {}
        for name, spec in self.meta["inputs"].items():
            make = seeded_normal if spec.get("kind") == "normal" else seeded_input
            made[name] = make(spec["shape"], spec["seed"])
        return made

    def check(self, name: str, output: Tensor, rtol: float = 1e-5, atol: float = 1e-5) -> None:
        """Assert that ``output`` is the stored output ``name`` (whole, or its summary)."""
        output = output.detach().float().contiguous()
        full = self.tensors.get(f"out.{name}.full")
        where = f"{self.path.name}: output {name!r}"
        if full is not None:
            assert output.shape == full.shape, f"{where}: shape {tuple(output.shape)}"
            torch.testing.assert_close(
                output, full, rtol=rtol, atol=atol, msg=lambda m: f"{where}\n{m}"
            )
            return
        shape = tuple(self.tensors[f"out.{name}.shape"].tolist())
        assert tuple(output.shape) == shape, f"{where}: shape {tuple(output.shape)}, not {shape}"
        index = self.tensors[f"out.{name}.index"]
        channels = output.transpose(0, 1).flatten(1)
        for part, value in (
            ("values", output.flatten()[index]),
            ("channel_mean", channels.mean(1)),
            ("channel_std", channels.std(1)),
        ):
            expected = self.tensors[f"out.{name}.{part}"]
            torch.testing.assert_close(
                value, expected, rtol=rtol, atol=atol, msg=lambda m, p=part: f"{where} ({p})\n{m}"
            )


def fixture_paths() -> list[Path]:
    """The fixtures of single networks (all but ``training/``)."""
    return sorted(p for p in GOLDEN_DIR.glob("*/*.safetensors") if p.parent.name != "training")


def weight_checksums(
    initial: Mapping[str, Tensor], final: Mapping[str, Tensor], seed: int
) -> Tensor:
    """Three numbers (float64) that tell a network's weights after training apart: the sum of
    all final values, the L2 norm of the update (final - initial), and the update projected on
    a seeded N(0, 1) direction (drawn key by key in sorted key order), which depends on the sign
    of every weight's update.

    Over the conv and linear weights (entries of two or more dimensions) only. A bias of a conv
    followed by instance norm has a zero gradient in exact arithmetic (the norm removes it), so
    its gradient is float rounding, which Adam turns into a step of +-lr whose sign no two
    implementations share; such biases do not change any output, and other biases are few.
    """
    generator = torch.Generator().manual_seed(seed)
    total, squares, projection = 0.0, 0.0, 0.0
    for key in sorted(final):
        if not final[key].is_floating_point() or final[key].dim() < 2:
            continue
        update = (final[key] - initial[key]).double()
        direction = torch.randn(update.shape, generator=generator, dtype=torch.float64)
        total += float(final[key].double().sum())
        squares += float((update**2).sum())
        projection += float((direction * update).sum())
    return torch.tensor([total, math.sqrt(squares), projection], dtype=torch.float64)

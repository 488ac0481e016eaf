"""What every benchmark measures the same way: alternating timed rounds, FLOPs, peak memory, and
the machine the figures come from.

A benchmark compares candidates (pipelines, training modes) *side by side*: each round runs every
candidate once, in turn, so a change in the machine's load while it runs affects them all alike,
and the median over rounds with its range is what gets reported. Figures from separate runs of a
shared machine differ by more than the differences worth measuring.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import lightning
import torch
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Throughput:
    """Items per second of one candidate: median and range over the timed rounds."""

    name: str
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, name: str, rates: list[float]) -> Throughput:
        return cls(name, statistics.median(rates), min(rates), max(rates))

    def scaled(self, factor: float) -> Throughput:
        """The same figures in another unit (iterations to images: the batch size)."""
        return Throughput(self.name, self.median * factor, self.low * factor, self.high * factor)


def alternate_rounds(
    candidates: Mapping[str, Callable[[], float]], rounds: int
) -> dict[str, list[float]]:
    """Run every candidate once per round, in turn, for ``rounds`` rounds; each call returns how
    many items it processed. Returns each candidate's items per second, one rate per round."""
    rates: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, run in candidates.items():
            start = time.perf_counter()
            items = run()
            rates[name].append(items / (time.perf_counter() - start))
    return rates


class FlopCount:
    """Counts the floating-point operations of the work done between :meth:`start` and
    :meth:`stop` (``torch.utils.flop_counter``: matrix products and convolutions, forward and
    backward; the elementwise rest is not counted, as is usual for MFU). Start and stop may sit in
    different hooks, which is how a step inside ``Trainer.fit`` gets counted."""

    def __init__(self) -> None:
        self._mode = FlopCounterMode(display=False)

    def start(self) -> None:
        self._mode.__enter__()

    def stop(self) -> int:
        self._mode.__exit__(None, None, None)
        return self._mode.get_total_flops()


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock read afterwards includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory(device: torch.device) -> tuple[int, str]:
    """Peak memory of this process so far, in bytes, and what was measured: the resident set on a
    CPU, the most memory tensors held at once on a GPU (``torch.cuda.max_memory_allocated``)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device), "max allocated on the GPU"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024), "peak RSS of the process"


def matmul_flops_per_second(
    device: torch.device, dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 5
) -> float:
    """Best of ``repeats`` square matrix products: what this device attains on the operation that
    dominates convolutions, the yardstick for a model's achieved FLOP/s."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


#: Dense bf16 tensor-core peaks from NVIDIA's data sheets (FLOP/s), by a piece of the device name.
BF16_DATASHEET_PEAKS = {
    "H200": 989.4e12,
    "H100 PCIe": 756.0e12,
    "H100": 989.4e12,  # SXM; matched after the PCIe card
    "A100": 312.0e12,
}


def bf16_datasheet_peak(device: torch.device) -> float | None:
    """The GPU's dense bf16 peak from :data:`BF16_DATASHEET_PEAKS`, None if unknown or a CPU."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in BF16_DATASHEET_PEAKS.items() if key in name), None)


def machine(device: torch.device) -> dict[str, Any]:
    """Versions, device and load: what a figure depends on besides the code."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            "unpaired": _version("unpaired"),
            "torch": torch.__version__,
            "lightning": lightning.__version__,
        },
        "device": str(device),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()

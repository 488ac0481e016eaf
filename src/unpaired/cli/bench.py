"""``unpaired-bench``: measurements behind the speed claims, one subcommand per subject.

    unpaired-bench data                    # loader throughput: ours vs the authors' pipeline
    unpaired-bench data --folder my/photos --images 200
    unpaired-bench train data=horse2zebra                # training: reference, fast, data
    unpaired-bench train --mode fast --mode "bf16:trainer.precision=bf16-mixed"
    unpaired-bench infer --size 1024 --batch 1           # inference: reference, fast

Add a subject with a function ``add_<subject>(subparsers)`` that registers its subcommand and
sets ``run`` to the function doing the measurement.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from unpaired.bench.data import (
    compare_pipelines,
    compare_stages,
    max_difference,
    write_jpegs,
)
from unpaired.bench.infer import INFER_MODES, compose_inference, inference_modes
from unpaired.bench.measure import (
    Throughput,
    bf16_datasheet_peak,
    machine,
    matmul_flops_per_second,
)
from unpaired.bench.modes import ModeChoice, compose_plain, device_of, parse_mode, unique_modes
from unpaired.bench.report import figures_table, mode_record, speedups
from unpaired.bench.train import TRAIN_MODES, training_modes
from unpaired.bench.workers import ModeSpec, compare_modes
from unpaired.cli.common import run_reporting_user_errors
from unpaired.cli.screen import quiet_third_parties
from unpaired.data.io import find_images
from unpaired.errors import DataError


def add_data(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "data",
        help="images per second per data-loader worker: our pipeline vs the authors'",
        description="Images per second of one data-loader worker (one process, one torch "
        "thread) turning JPEG files into training tensors: the CycleGAN authors' PIL + "
        "torchvision pipeline and ours, side by side, and the alternatives for each step.",
    )
    parser.add_argument("--images", type=int, default=64, help="images per round (default 64)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--load-size", type=int, default=286)
    parser.add_argument("--crop-size", type=int, default=256)
    parser.add_argument(
        "--source-size", type=int, default=256, help="side of the generated JPEGs (default 256)"
    )
    parser.add_argument(
        "--folder", type=Path, help="time your own images instead of generated JPEGs"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.set_defaults(run=bench_data)


def bench_data(args: argparse.Namespace) -> dict[str, Any]:
    console = Console()
    with tempfile.TemporaryDirectory() as scratch:
        if args.folder is None:
            paths = write_jpegs(Path(scratch), args.images, size=args.source_size)
            source = f"{args.images} generated {args.source_size}x{args.source_size} JPEGs"
        else:
            paths = find_images(args.folder, args.images)
            if not paths:
                raise DataError(f"{args.folder} holds no images to time.")
            source = f"{len(paths)} images from {args.folder}"
        sizes = dict(load_size=args.load_size, crop_size=args.crop_size)
        pipelines = compare_pipelines(paths, rounds=args.rounds, **sizes)
        stages = compare_stages(paths, rounds=args.rounds, **sizes)
        difference = max_difference(paths[:8], **sizes)
    title = f"{source}, load {args.load_size}, crop {args.crop_size}, flip"
    console.print(_table(f"data loading, images/s per worker ({title})", pipelines))
    speedup = pipelines[1].median / pipelines[0].median
    console.print(
        f"ours is {speedup:.2f}x the authors'; largest output difference "
        f"{difference:.2f} of 255 (same crops and flips)"
    )
    console.print(_table("the alternatives for each step, images/s", stages))
    result = {
        "source": source,
        **sizes,
        "pipelines": [vars(row) for row in pipelines],
        "speedup": speedup,
        "max_difference_8bit": difference,
        "stages": [vars(row) for row in stages],
    }
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


def _table(title: str, rows: list[Throughput]) -> Table:
    table = Table(title=title)
    for column in ("", "median", "min", "max"):
        table.add_column(column, justify="left" if not column else "right")
    for row in rows:
        table.add_row(row.name, f"{row.median:.0f}", f"{row.low:.0f}", f"{row.high:.0f}")
    return table


MODE_HELP = (
    "a mode to measure (repeat for several): {bases}, or LABEL:OVERRIDES for a variant of "
    'fast with more overrides, e.g. "bf16:trainer.precision=bf16-mixed" (default: {default})'
)


def _add_comparison_arguments(parser: argparse.ArgumentParser, modes: tuple[str, ...]) -> None:
    parser.add_argument(
        "--mode",
        action="append",
        help=MODE_HELP.format(bases=", ".join(modes), default=" ".join(modes)),
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="OVERRIDE",
        help="Hydra overrides of conf/train.yaml, as for unpaired-train (experiment=..., "
        "model.generator.n_blocks=6, trainer.accelerator=gpu, ...)",
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed steps per mode first (default 2)"
    )
    parser.add_argument("--windows", type=int, default=5, help="timed windows per mode (default 5)")
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=10.0,
        help="length of a window: as many steps as fill it, one at least (default 10)",
    )
    parser.add_argument(
        "--threads", type=int, help="torch threads in every mode (default: torch's own)"
    )
    parser.add_argument("--json", type=Path, help="also write the record to this file")


def add_train(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="training iterations per second: our step vs the authors'",
        description="Training iterations and images per second, FLOP/s, peak memory and the "
        "time spent waiting for data, of each mode in its own process, side by side: "
        "reference (the CycleGAN authors' step, reproduced), fast (our training step as the "
        "config sets it, on batches in memory), data (fast fed by the configured DataModule).",
    )
    _add_comparison_arguments(parser, TRAIN_MODES)
    parser.set_defaults(run=bench_train)


def add_infer(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "infer",
        help="images translated per second: our translator vs the authors' test loop",
        description="Images translated per second, FLOP/s and peak memory of each mode in its "
        "own process, side by side: reference (the CycleGAN authors' test loop: no_grad, one "
        "image at a time) and fast (the translator of unpaired-translate with the options of "
        "the inference config node, inference.*). A step translates --batch images.",
    )
    _add_comparison_arguments(parser, INFER_MODES)
    parser.add_argument(
        "--size", type=int, default=256, help="side of the square images (default 256)"
    )
    parser.add_argument(
        "--batch", type=int, default=1, help="images translated per step (default 1)"
    )
    parser.set_defaults(run=bench_infer)


def bench_train(args: argparse.Namespace) -> dict[str, Any]:
    choices = _choices(args.mode, TRAIN_MODES)
    config = compose_plain(args.overrides)
    side = config["data"]["crop_size"]
    return _compare(
        "train",
        args,
        choices,
        training_modes(choices, args.overrides),
        config,
        step=f"one training iteration (G and D updates) on data.batch_size pairs of "
        f"{side}x{side} images",
        unit="it",
    )


def bench_infer(args: argparse.Namespace) -> dict[str, Any]:
    choices = _choices(args.mode, INFER_MODES)
    config = compose_inference(args.overrides)
    return _compare(
        "infer",
        args,
        choices,
        inference_modes(choices, args.overrides, args.size, args.batch),
        config,
        step=f"{args.batch} {args.size}x{args.size} image(s) translated by one generator",
        unit="batch",
    )


def _choices(modes: list[str] | None, bases: tuple[str, ...]) -> list[ModeChoice]:
    return unique_modes([parse_mode(mode, bases) for mode in (modes or bases)])


def _compare(
    subject: str,
    args: argparse.Namespace,
    choices: list[ModeChoice],
    modes: dict[str, ModeSpec],
    config: dict[str, Any],
    step: str,
    unit: str,
) -> dict[str, Any]:
    """Time ``modes`` side by side, print the table and write the record."""
    console = Console()
    if not console.is_terminal:  # a log file: keep every column whole
        console = Console(width=160)
    device = torch.device(device_of(config["trainer"]))
    if args.threads is not None:
        torch.set_num_threads(args.threads)  # for the yardstick below; workers set their own
    load_before = machine(device)["load_average"]
    figures = compare_modes(modes, args.warmup, args.windows, args.window_seconds, args.threads)
    matmul = matmul_flops_per_second(device)
    datasheet = bf16_datasheet_peak(device)
    peak, peak_source = (
        (datasheet, "bf16 dense peak of the GPU's data sheet")
        if datasheet is not None
        else (matmul, "fp32 2048x2048 matrix product measured after the modes")
    )
    records = [mode_record(figure, peak) for figure in figures]
    for record, choice in zip(records, choices, strict=True):
        record["base"] = choice.base
        record["overrides"] = list(choice.overrides)
    record = {
        "subject": subject,
        "step": step,
        "overrides": list(args.overrides),
        "settings": {
            "warmup": args.warmup,
            "windows": args.windows,
            "window_seconds": args.window_seconds,
            "threads": args.threads,
            **({"size": args.size, "batch": args.batch} if subject == "infer" else {}),
        },
        "config": {
            key: config[key]
            for key in ("model", "data", "trainer", "callbacks", "inference")
            if key in config
        },
        "machine": {**machine(device), "load_average_before": load_before},
        "peak_flops_per_second": {"value": peak, "source": peak_source},
        "matmul_fp32_flops_per_second": matmul,
        "modes": records,
        "speedup": speedups(records),
    }
    title = f"{subject}: {step}, on {device.type} (load {load_before[0]:.1f})"
    console.print(figures_table(title, records, unit, data_wait=subject == "train"))
    console.print(f"'of peak': achieved FLOP/s over the {peak_source} ({peak / 1e9:.0f} GFLOP/s)")
    if args.json is not None:
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return record


SUBJECTS: tuple[Callable[[Any], None], ...] = (add_data, add_train, add_infer)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unpaired-bench", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="subject", required=True, metavar="SUBJECT")
    for add_subject in SUBJECTS:
        add_subject(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    quiet_third_parties()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse takes positional arguments in one run: Hydra overrides written after an option
    # come back unparsed
    if extra and "overrides" in args and not any(arg.startswith("-") for arg in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    run_reporting_user_errors(args.run, args)


if __name__ == "__main__":
    main()

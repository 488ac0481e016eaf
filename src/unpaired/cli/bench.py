"""``unpaired-bench``: measurements behind the speed claims, one subcommand per subject.

    unpaired-bench data                    # loader throughput: ours vs the authors' pipeline
    unpaired-bench data --folder my/photos --images 200

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

from rich.console import Console
from rich.table import Table

from unpaired.bench.data import (
    Throughput,
    compare_pipelines,
    compare_stages,
    max_difference,
    write_jpegs,
)
from unpaired.cli.common import run_reporting_user_errors
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


SUBJECTS: tuple[Callable[[Any], None], ...] = (add_data,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unpaired-bench", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="subject", required=True, metavar="SUBJECT")
    for add_subject in SUBJECTS:
        add_subject(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_reporting_user_errors(args.run, args)


if __name__ == "__main__":
    main()

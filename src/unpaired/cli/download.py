"""``unpaired-download``: the papers' data sets into ``data/NAME``, in our layout.

    unpaired-download horse2zebra                       # from the authors' server
    unpaired-download horse2zebra --from-file ~/horse2zebra.zip   # downloaded by hand
    unpaired-download --list                            # what is known, and what is installed

Safe to interrupt and to run again: see :mod:`unpaired.data.download`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from unpaired.cli.common import run_reporting_user_errors
from unpaired.data.download import (
    ALIGNED,
    IMAGES,
    SOURCE_FILE,
    SOURCES,
    UNALIGNED,
    download,
    install_from_file,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unpaired-download",
        description="Download a data set of the CycleGAN or pix2pix papers into ROOT/NAME.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="data set (see --list)")
    parser.add_argument(
        "--root", type=Path, default=Path("data"), help="folder of the data sets (default: data)"
    )
    parser.add_argument(
        "--from-file",
        type=Path,
        metavar="ARCHIVE",
        help="install this archive, downloaded by hand, instead of downloading (no internet "
        "needed; NAME may then also be a name of your own)",
    )
    parser.add_argument("--list", action="store_true", help="list the known data sets and exit")
    parser.add_argument(
        "--force", action="store_true", help="replace ROOT/NAME if it exists or is damaged"
    )
    parser.add_argument(
        "--mirror",
        metavar="URL",
        help="download from this server (scheme://host[:port][/prefix]) instead of the "
        "authors', under the same paths",
    )
    return parser


def run(args: argparse.Namespace) -> Path | None:
    """Do what the parsed ``args`` ask; returns the installed folder (None for --list)."""
    console = Console(stderr=True)
    if args.list:
        Console().print(sources_table(args.root))
        return None
    if args.from_file is not None:
        return install_from_file(
            args.from_file, args.name, args.root, force=args.force, console=console
        )
    return download(args.name, args.root, mirror=args.mirror, force=args.force, console=console)


def sources_table(root: Path) -> Table:
    """The known data sets, their layout and whether ``root`` holds them."""
    table = Table(
        title=f"data sets (unpaired-download NAME, into {root}/NAME)",
        caption=f"{UNALIGNED}: trainA/ trainB/ testA/ testB/. {ALIGNED}: train/ val/ test/, "
        f"each image A and B side by side. {IMAGES}: one folder of images.",
    )
    for column in ("name", "layout", "content", "installed"):
        table.add_column(column)
    for source in SOURCES.values():
        installed = "yes" if (root / source.name / SOURCE_FILE).is_file() else ""
        table.add_row(source.name, source.layout, source.about, installed)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.list and not args.name:
        parser.error("give the NAME of a data set, or --list to see them")
    run_reporting_user_errors(run, args)


if __name__ == "__main__":
    main()

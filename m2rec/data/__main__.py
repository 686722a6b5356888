"""Command line: ``python -m m2rec.data {prepare,fetch,stats,memcheck} ...`` (docs/datasets.md).

Every expected failure (missing or damaged file, offline, bad option) ends the command with exit
status 1 and one line on stderr that says what to do.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Optional, Sequence

from m2rec.data import DATASETS, DataError, default_data_path, ensure_dataset
from m2rec.data.filters import FilterConfig


def _filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (defaults: the dataset's paper-matching settings)")
    group.add_argument("--user-core", type=int, help="keep users with at least this many interactions (5)")
    group.add_argument("--item-core", type=int, help="keep items with at least this many interactions (5)")
    group.add_argument("--min-rating", type=float, help="drop interactions rated below this")
    group.add_argument("--since", help="keep interactions at or after this day (YYYY-MM-DD, UTC)")
    group.add_argument("--until", help="keep interactions before this day (YYYY-MM-DD, UTC)")
    group.add_argument("--top-users", type=int, help="keep only the N users with the most interactions")
    group.add_argument("--dedupe", action=argparse.BooleanOptionalAction, default=None,
                       help="drop repeated (user, item, time) rows (default: on for Google Local only)")
    group.add_argument("--file-order", action="store_true", default=None,
                       help="write each user's rows in the raw file's order, not time order (as RecBole's own "
                            "atomic files; run with --exact_time_order=False to get RecBole's sequences)")


def _filters(args: argparse.Namespace) -> FilterConfig:
    """The dataset's default filters with the options given on the command line."""
    given = {"user_core": args.user_core, "item_core": args.item_core, "min_rating": args.min_rating,
             "since": args.since, "until": args.until, "top_users": args.top_users, "dedupe": args.dedupe,
             "file_order": args.file_order}
    return dataclasses.replace(DATASETS[args.name].filters,
                               **{key: value for key, value in given.items() if value is not None})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m m2rec.data",
                                     description="Prepare the paper's datasets as RecBole atomic files.")
    commands = parser.add_subparsers(dest="command", required=True)

    prepare = commands.add_parser("prepare", help="convert downloaded raw files into DIR/NAME/NAME.{inter,item}")
    prepare.add_argument("name", choices=list(DATASETS))
    prepare.add_argument("--raw", required=True, type=Path,
                         help="the raw file or the folder holding the raw files under their published names")
    prepare.add_argument("--out", required=True, type=Path, help="data path: the dataset goes to OUT/NAME/")
    prepare.add_argument("--strict", action="store_true",
                         help="stop at the first malformed record instead of skipping and counting it")
    prepare.add_argument("--force", action="store_true", help="replace an existing OUT/NAME/NAME.inter")
    prepare.add_argument("--no-progress", action="store_true", help="no progress bars")
    _filter_arguments(prepare)

    fetch = commands.add_parser("fetch", help="download (into DATA_PATH/raw/) and prepare NAME unless present")
    fetch.add_argument("name", choices=list(DATASETS))
    fetch.add_argument("--data-path", type=Path, help="default: $M2REC_DATA_PATH, else dataset/")
    fetch.add_argument("--mirror",
                       help="folder URL serving the raw files (default: $M2REC_MIRROR, else the publishers)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bars")

    stats = commands.add_parser("stats", help="#users/#items/#interactions/average length beside Table III")
    stats.add_argument("dir", type=Path, help="data path (holding NAME/NAME.inter) or the dataset folder")
    stats.add_argument("name")

    memcheck = commands.add_parser("memcheck", help="peak memory of `prepare nyc` on a generated Google Local input")
    memcheck.add_argument("--size-mb", type=float, default=1024, help="uncompressed size of the generated reviews")
    memcheck.add_argument("--workdir", type=Path, required=True, help="folder for the generated files and output")
    return parser


def run(args: argparse.Namespace) -> None:
    """Carry out one parsed command."""
    if args.command == "prepare":
        from m2rec.data.convert import prepare

        report = prepare(args.name, args.raw, args.out, filters=_filters(args), strict=args.strict,
                         force=args.force, show_progress=not args.no_progress)
        print("\n".join(report.lines))
    elif args.command == "fetch":
        folder = ensure_dataset(args.name, args.data_path or default_data_path(),
                                show_progress=not args.no_progress, mirror=args.mirror)
        print(folder)
    elif args.command == "stats":
        from m2rec.data.stats import inter_path, measure, table

        path = inter_path(args.dir, args.name)
        print(f"{path}\n{table(args.name, measure(path))}")
    else:
        from m2rec.data.memcheck import memcheck

        print(memcheck(args.workdir, int(args.size_mb * 2**20)))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        run(args)
    except (DataError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no dataset was written (a partial download is kept and resumed next time)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Copy a RecBole dataset with the order of its tied interactions changed, nothing else.

RecBole sorts each user's interactions by timestamp with a stable sort, so interactions with the same
timestamp keep the order of the `.inter` file, and leave-one-out takes the last of them as the test
target. This writes <out>/<name>/ with every file of <data_path>/<name>/ copied and <name>.inter
rewritten: rows grouped by user in time order, and within each run of equal timestamps of one user
the file order reversed (--order reverse) or shuffled (--order shuffle --seed S). Training on both
copies shows how much a model's test metrics depend on tie order alone (docs/results.md).

    python scripts/reorder_ties.py $(python -c "import recbole, os; print(os.path.dirname(recbole.__file__))")/dataset_example \
        ml-100k /tmp/ties/reversed --order reverse
    python run_mm.py --model Mamba4Rec --dataset ml-100k --data_path /tmp/ties/reversed
"""
from __future__ import annotations

import argparse
import itertools
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from m2rec.data import DataError  # noqa: E402


def reorder(lines: list[str], order: str, seed: int = 0) -> list[str]:
    """Data rows of a `.inter` file (header first) in user, time order, ties reversed or shuffled."""
    header = [cell.split(":", 1)[0] for cell in lines[0].rstrip("\n").split("\t")]
    if not {"user_id", "timestamp"} <= set(header):
        raise DataError("the .inter header needs user_id and timestamp columns to reorder ties")
    user, time = header.index("user_id"), header.index("timestamp")
    rows = [(line.rstrip("\n").split("\t"), line) for line in lines[1:] if line.strip()]
    rows.sort(key=lambda row: (row[0][user], float(row[0][time])))  # stable: ties keep the file order
    rng = random.Random(seed)
    out = [lines[0]]
    for _, tied in itertools.groupby(rows, key=lambda row: (row[0][user], float(row[0][time]))):
        block = [line for _, line in tied]
        if order == "reverse":
            block.reverse()
        else:
            rng.shuffle(block)
        out.extend(block)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_path", type=Path, help="folder holding <name>/<name>.inter")
    parser.add_argument("name")
    parser.add_argument("out", type=Path, help="folder to write <name>/ into")
    parser.add_argument("--order", choices=("reverse", "shuffle"), default="reverse")
    parser.add_argument("--seed", type=int, default=0, help="for --order shuffle")
    args = parser.parse_args(argv)
    source = args.data_path / args.name
    inter = source / f"{args.name}.inter"
    if not inter.is_file():
        parser.error(f"no {inter}")
    target = args.out / args.name
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and path != inter:
            shutil.copy2(path, target / path.name)
    lines = inter.read_text(encoding="utf-8").splitlines(keepends=True)
    (target / inter.name).write_text("".join(reorder(lines, args.order, args.seed)), encoding="utf-8")
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Copy a RecBole dataset with the order of its tied interactions changed, nothing else.

RecBole sorts each user's interactions by timestamp with a stable sort, so tied interactions keep the
order of the `.inter` file, and leave-one-out takes the last of them as the test target. This writes
<out>/<name>/ with every file of <data_path>/<name>/ copied and <name>.inter rewritten: rows grouped
by user in time order, and within each run of one user's tied interactions the file order reversed
(--order reverse), shuffled (--order shuffle --seed S), or put in one fixed random order of the items,
the same for every user (--order items --seed S). Training on both copies shows how much a model's
test metrics depend on tie order alone (docs/results.md).

What is a tie (--tie):
  second   the same whole second; timestamps are written as whole seconds, since our rebuilt ML-1M
           keeps the published order of same-second rows in fractions that RecBole's sort would
           otherwise restore.
  float32  the same float32 value: RecBole 1.2.1 turns a float field into a float32 tensor before it
           sorts (unless the field is normalised), which rounds Unix times of 1987-2004 to multiples
           of 64 s and later ones to 128 s (RecBole issues #1653, #2204). This is the order RecBole
           makes of a file that is not in time order within users, such as GroupLens' ML-1M as
           RecBole distributes it. Within a user, that file lists the movies in one order shared by
           all users (docs/results.md), which --order items emulates; --order shuffle is the same
           copy without that shared order.

    python scripts/reorder_ties.py $(python -c "import recbole, os; print(os.path.dirname(recbole.__file__))")/dataset_example \
        ml-100k /tmp/ties/reversed --order reverse
    python run_mm.py --model Mamba4Rec --dataset ml-100k --data_path /tmp/ties/reversed
    python scripts/reorder_ties.py ../shared/data ml-1m /tmp/ties/recbole --tie float32 --order items
"""
from __future__ import annotations

import argparse
import itertools
import math
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from m2rec.data import DataError  # noqa: E402
from m2rec.data.stats import TIES  # noqa: E402  (what makes two timestamps of a user a tie)

ORDERS = ("reverse", "shuffle", "items")


def _parse(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """(column names, rows as lists of cells) of a `.inter` file's lines, header first."""
    header = [cell.split(":", 1)[0] for cell in lines[0].rstrip("\n").split("\t")]
    return header, [line.rstrip("\n").split("\t") for line in lines[1:] if line.strip()]


def reorder(lines: list[str], order: str, seed: int = 0, tie: str = "second") -> list[str]:
    """Data rows of a `.inter` file (header first) in user, time order, ties reversed, shuffled, or
    sorted by one random rank per item (order="items", the same ranks for every user).

    tie="second": a tie is a run of one user's interactions within the same whole second (as `python -m
    m2rec.data stats` counts them), and a timestamp with a fraction of a second is written as its whole
    second. tie="float32": a tie is a run with the same float32 timestamp (RecBole's view), written as is.
    """
    header, rows = _parse(lines)
    if not {"user_id", "timestamp"} <= set(header):
        raise DataError("the .inter header needs user_id and timestamp columns to reorder ties")
    if order not in ORDERS:
        raise DataError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    if tie not in TIES:
        raise DataError(f"tie must be one of {', '.join(TIES)}, not {tie!r}")
    user, time = header.index("user_id"), header.index("timestamp")
    rows.sort(key=lambda cells: (cells[user], float(cells[time])))  # stable: ties keep the file order
    rng = random.Random(seed)
    item = header.index("item_id") if "item_id" in header else None
    if order == "items":
        if item is None:
            raise DataError("--order items needs an item_id column")
        items = sorted({cells[item] for cells in rows})
        rank = dict(zip(items, rng.sample(range(len(items)), len(items))))
    out = [lines[0]]
    for _, tied in itertools.groupby(rows, key=lambda cells: (cells[user], TIES[tie](float(cells[time])))):
        block = list(tied)
        if order == "reverse":
            block.reverse()
        elif order == "shuffle":
            rng.shuffle(block)
        else:
            block.sort(key=lambda cells: rank[cells[item]])
        for cells in block:
            seconds = float(cells[time])
            if tie == "second" and seconds != math.floor(seconds):
                cells[time] = str(math.floor(seconds))
            out.append("\t".join(cells) + "\n")
    return out


def recbole_targets(lines: list[str]) -> dict[str, tuple[str, ...]]:
    """Each user's (validation, test) items as RecBole 1.2.1 orders a `.inter` file (header first): a
    stable sort on the float32 timestamp (the field not normalised), leave-one-out taking the last two."""
    header, rows = _parse(lines)
    user, item, time = header.index("user_id"), header.index("item_id"), header.index("timestamp")
    rows.sort(key=lambda cells: (cells[user], TIES["float32"](float(cells[time]))))
    return {name: tuple(cells[item] for cells in list(group)[-2:])
            for name, group in itertools.groupby(rows, key=lambda cells: cells[user])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_path", type=Path, help="folder holding <name>/<name>.inter")
    parser.add_argument("name")
    parser.add_argument("out", type=Path, help="folder to write <name>/ into")
    parser.add_argument("--order", choices=ORDERS, default="reverse")
    parser.add_argument("--seed", type=int, default=0, help="for --order shuffle and --order items")
    parser.add_argument("--tie", choices=tuple(TIES), default="second",
                        help="same whole second, or same float32 value as RecBole sorts them (see above)")
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
    written = reorder(lines, args.order, args.seed, args.tie)
    (target / inter.name).write_text("".join(written), encoding="utf-8")
    print(target)
    if "item_id" in _parse(lines[:1])[0]:
        before, after = recbole_targets(lines), recbole_targets(written)
        moved = [sum(before[name][k] != after[name][k] for name in before) for k in (-1, 0)]
        print(f"as RecBole 1.2.1 orders the two files (float32 times, not normalised), the test target differs for "
              f"{moved[0]:,} of {len(before):,} users and the validation target for {moved[1]:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dataset statistics of a `.inter` file, printed beside the paper's Table III.

Table III's "average length" is not one quantity: for ML-1M (999,611 / 6,040 = 165.5) and
California (369,469 / 7,272 = 50.8) it is interactions per user, for New York
(478,903 / 4,500 = 106.4) and Texas (1,344,379 / 20,375 = 66.0) interactions per item. Both
averages are therefore printed.

With a timestamp column, `stats` also counts the users whose last two interactions fall in the same
second: leave-one-out takes the last as the test target and the one before as the validation target,
so for those users which item is which is decided by how the ties are ordered, not by time. It also
counts them as RecBole 1.2.1 compares times: it sorts a float32 copy of the timestamp column (unless
the field is normalised), which rounds Unix times of 1987-2004 to 64 s and later ones to 128 s
(RecBole issues #1653, #2204). A file in time order keeps that order through RecBole's stable sort;
for a file that is not (GroupLens' ML-1M as RecBole distributes it), these users' targets are set by
the file's order.
"""
from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from m2rec.data.errors import DataError
from m2rec.data.registry import DATASETS, PaperFigures

# When two timestamps of a user are a tie: the same whole second, or the same float32 value (RecBole 1.2.1's sort).
TIES = {"second": math.floor, "float32": np.float32}


@dataclass(frozen=True)
class DatasetStats:
    """Counts of one dataset, and the fewest interactions of any user / item (5 or more after a
    5-core)."""

    users: int
    items: int
    interactions: int
    min_per_user: int
    min_per_item: int
    tied_targets: Optional[int] = None  # users whose last two timestamps share a second; None: no timestamps
    float32_tied_targets: Optional[int] = None  # users whose last two timestamps are equal in float32 (RecBole's sort)

    @property
    def per_user(self) -> float:
        return self.interactions / self.users if self.users else 0.0

    @property
    def per_item(self) -> float:
        return self.interactions / self.items if self.items else 0.0


def inter_path(folder: Path, name: str) -> Path:
    """`<folder>/<name>/<name>.inter` (folder = data_path) or `<folder>/<name>.inter` (folder = the
    dataset folder); a one-line error naming both places otherwise."""
    for candidate in (folder / name / f"{name}.inter", folder / f"{name}.inter"):
        if candidate.is_file():
            return candidate
    raise DataError(f"no {name}.inter in {folder / name} or {folder}; prepare it first: "
                    f"python -m m2rec.data prepare {name} --raw RAW --out {folder}")


def measure(path: Path) -> DatasetStats:
    """Read `path` (a `.inter` file) once and count its users, items, rows and tied targets."""
    users: Counter[str] = Counter()
    items: Counter[str] = Counter()
    times: dict[str, list[float]] = defaultdict(list)
    with open(path, encoding="utf-8") as inter:
        header = [cell.split(":", 1)[0] for cell in inter.readline().rstrip("\n").split("\t")]
        if "user_id" not in header or "item_id" not in header:
            raise DataError(f"{path}: the header has no user_id and item_id columns; is it a RecBole .inter file?")
        user_column, item_column = header.index("user_id"), header.index("item_id")
        time_column = header.index("timestamp") if "timestamp" in header else None
        for number, line in enumerate(inter, start=2):
            cells = line.rstrip("\n").split("\t")
            if len(cells) != len(header):
                raise DataError(f"{path} line {number}: {len(cells)} cells for {len(header)} columns; "
                                "prepare the dataset again")
            users[cells[user_column]] += 1
            items[cells[item_column]] += 1
            if time_column is not None:
                times[cells[user_column]].append(float(cells[time_column]))
    tied = tied32 = None
    if time_column is not None:
        last_two = [heapq.nlargest(2, stamps) for stamps in times.values() if len(stamps) > 1]
        tied, tied32 = (sum(1 for later, earlier in last_two if same(later) == same(earlier))
                        for same in (TIES["second"], TIES["float32"]))
    return DatasetStats(users=len(users), items=len(items), interactions=sum(users.values()),
                        min_per_user=min(users.values(), default=0), min_per_item=min(items.values(), default=0),
                        tied_targets=tied, float32_tied_targets=tied32)


def table(name: str, stats: DatasetStats, paper: Optional[PaperFigures] = None) -> str:
    """A small text table: these statistics, and the paper's figures when `name` is one of its
    datasets (or `paper` is given)."""
    paper = paper or (DATASETS[name].paper if name in DATASETS else None)
    rows = [(name, "users", "items", "interactions", "avg/user", "avg/item", "min/user", "min/item"),
            ("measured", f"{stats.users:,}", f"{stats.items:,}", f"{stats.interactions:,}",
             f"{stats.per_user:.1f}", f"{stats.per_item:.1f}", f"{stats.min_per_user:,}", f"{stats.min_per_item:,}")]
    if paper is not None:
        averages = (paper.average, "") if paper.average_per == "user" else ("", paper.average)
        rows.append(("paper Table III", paper.users, paper.items, paper.interactions, *averages, "", ""))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join([row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in
                                                    zip(row[1:], widths[1:])]).rstrip() for row in rows]
    if stats.tied_targets is not None:
        lines.append(f"users whose last two interactions share a second (test vs validation target set by "
                     f"tie order): {stats.tied_targets:,} ({stats.tied_targets / max(stats.users, 1):.1%})")
    if stats.float32_tied_targets is not None:
        lines.append(f"... and whose last two are equal as RecBole sorts them (float32 timestamps; set by file order "
                     f"if the file is not in time order): {stats.float32_tied_targets:,} "
                     f"({stats.float32_tied_targets / max(stats.users, 1):.1%})")
    return "\n".join(lines)

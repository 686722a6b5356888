"""`prepare`: raw files -> filtered RecBole atomic files, the same steps for every dataset.

A converter module (`movielens`, `amazon`, `google_local`) provides ``ITEM_COLUMNS``,
``locate(raw, spec)`` (the two `lines.RawSource`s, interactions and item text, or a one-line error
naming the missing file), ``interactions(source, options)`` (a stream of (user, item, rating,
seconds) tuples) and ``item_texts(source, wanted, options)`` (the text columns of the wanted items).
`prepare`:

1. finds both raw files before reading anything, then streams the interactions, keeping the rows
   that pass the per-row filters, as integer codes;
2. drops duplicates / keeps the top-N users / applies the k-core (`kcore.select`);
3. reads the item text of the surviving items only;
4. writes ``<out>/<name>/<name>.inter`` and ``.item`` atomically (`atomic.staged_dataset`);
5. reports what was skipped and dropped, and the statistics beside the paper's Table III.

Memory: 20 bytes per kept row plus one dict entry per distinct user and item id (about 150 bytes
each), a few temporary bytes per row while filtering and sorting, plus the text of the surviving
items; it does not grow with the size of review texts or of the meta file (docs/datasets.md).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Optional, Union

import numpy as np

from m2rec.data import kcore
from m2rec.data.atomic import check_target, staged_dataset
from m2rec.data.errors import DataError
from m2rec.data.filters import FilterConfig
from m2rec.data.interactions import Interactions, InteractionTable
from m2rec.data.lines import RawSource, ReadOptions
from m2rec.data.recbole_files import write_inter, write_item
from m2rec.data.registry import get
from m2rec.data.stats import DatasetStats, table as stats_table


@dataclass
class PrepareReport:
    """What `prepare` did: the dataset folder, its statistics and the lines to show the user."""

    folder: Path
    stats: DatasetStats
    lines: list[str]


def _collect(converter: ModuleType, source: RawSource, config: FilterConfig,
             options: ReadOptions) -> tuple[InteractionTable, int]:
    """The interactions that pass the per-row filters, and how many did not."""
    collected = InteractionTable()
    keep_row = config.row_predicate()
    outside = 0
    for user, item, rating, timestamp in converter.interactions(source, options):
        if keep_row(rating, timestamp):
            collected.add(user, item, rating, timestamp)
        else:
            outside += 1
    if not len(collected):
        raise DataError(f"no usable interactions in {options.files[0].label} ({options.files[0].summary()}; "
                        f"{outside:,} outside the rating/date filters); check --raw and the filters")
    return collected, outside


def _measure(data: Interactions, rows: np.ndarray) -> DatasetStats:
    user_counts = np.bincount(data.user[rows])
    item_counts = np.bincount(data.item[rows])
    return DatasetStats(users=int(np.count_nonzero(user_counts)), items=int(np.count_nonzero(item_counts)),
                        interactions=len(rows), min_per_user=int(user_counts[user_counts > 0].min()),
                        min_per_item=int(item_counts[item_counts > 0].min()))


def prepare(name: str, raw: Union[str, Path], out: Union[str, Path], *, filters: Optional[FilterConfig] = None,
            strict: bool = False, force: bool = False, show_progress: bool = True) -> PrepareReport:
    """Convert the raw files of dataset `name` found at `raw` into `<out>/<name>/`.

    `filters` defaults to the dataset's paper-matching settings (`registry`); `strict` stops at the
    first malformed record instead of skipping it; `force` replaces an existing dataset. Raises
    `DataError` (one line) for missing or damaged files and for an empty result.
    """
    spec = get(name)
    config = filters or spec.filters
    raw, out = Path(raw), Path(out)
    check_target(out, name, force)
    out.mkdir(parents=True, exist_ok=True)
    converter = importlib.import_module(f"m2rec.data.{spec.converter}")
    interaction_source, item_source = converter.locate(raw, spec)
    options = ReadOptions(strict=strict, show_progress=show_progress)

    collected, outside = _collect(converter, interaction_source, config, options)
    data = collected.arrays()
    selection = kcore.select(data, config)
    if not len(selection.rows):
        raise DataError(f"no interactions of {name} survive the filters ({config.describe()}); "
                        "lower the k-core thresholds or widen the filters")
    item_ids = [data.item_ids[code] for code in np.unique(data.item[selection.rows]).tolist()]
    texts = converter.item_texts(item_source, set(item_ids), options)
    with staged_dataset(out, name, force) as stage:
        write_inter(stage / f"{name}.inter", data, selection.rows)
        write_item(stage / f"{name}.item", converter.ITEM_COLUMNS, item_ids, texts)

    stats = _measure(data, selection.rows)
    per_row = config.min_rating is not None or config.since or config.until
    dropped = [f"{outside:,} outside rating/date"] if per_row else []
    dropped += [f"{count:,} {step}" for step, count in selection.dropped.items()]
    lines = [file.summary() for file in options.files]
    lines.append(f"filters: {config.describe()}; rows dropped: {', '.join(dropped)} "
                 f"({selection.rounds} k-core rounds)")
    lines.append(f"wrote {out / name / (name + '.inter')} and {name}.item "
                 f"({len(item_ids) - len(texts):,} of {len(item_ids):,} items without text)")
    lines.append(stats_table(name, stats))
    return PrepareReport(folder=out / name, stats=stats, lines=lines)

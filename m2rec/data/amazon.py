"""Amazon Beauty from the 2014 McAuley files: ``reviews_Beauty_5.json.gz`` and ``meta_Beauty.json.gz``.

The review file is JSON, one review per line (``reviewerID``, ``asin``, ``overall``,
``unixReviewTime``, ...). The meta file is not strict JSON but one Python dict literal per line
(single quotes): each line is tried as JSON, then with `ast.literal_eval`. Meta lines of items that
are not in the dataset are recognised by their ``'asin'`` and not parsed (most of the 259K lines).
``--raw`` is the folder holding both files (gzip-compressed or not, under the published names).

Output: ``.inter`` rows (reviewerID, asin, overall, unixReviewTime); ``.item`` columns title,
brand, categories (every category name of the item's category paths, spaces as ``_``) and
description: the paper's {name, category, description}.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from m2rec.data import lines
from m2rec.data.lines import RawSource, ReadOptions, find_raw, finite
from m2rec.data.recbole_files import clean, identifier, tokens
from m2rec.data.registry import DatasetSpec

ITEM_COLUMNS = ("title:token_seq", "brand:token", "categories:token_seq", "description:token_seq")
ASIN = re.compile(rb"""['"]asin['"]\s*:\s*['"]([^'"]+)['"]""")
REVIEW_FIELDS = (("reviewerID", identifier), ("asin", identifier), ("overall", finite), ("unixReviewTime", finite))


def locate(raw: Path, spec: DatasetSpec) -> tuple[RawSource, RawSource]:
    """(reviews, meta) in the folder `raw`; a one-line error naming the download URL if missing."""
    return tuple(find_raw(raw, (file.name, file.name[:-len(".gz")]), f"download {file.url()} into that folder")
                 for file in spec.raw_files)


def _category_names(categories: Any) -> list[Any]:
    """The names in the meta file's list of category paths, e.g. [["Beauty", "Makeup", "Nails"]]."""
    if not isinstance(categories, list):
        return []
    return [name for path in categories if isinstance(path, list) for name in path]


def interactions(reviews: RawSource, options: ReadOptions) -> Iterator[tuple[str, str, float, float]]:
    """(reviewerID, asin, overall, unixReviewTime) for every valid review."""
    yield from lines.records(reviews, options, REVIEW_FIELDS)


def item_texts(meta: RawSource, wanted: set[str], options: ReadOptions) -> dict[str, tuple[str, ...]]:
    """(title, brand, categories, description) of the items in `wanted`."""
    return lines.item_texts(meta, wanted, options, ASIN, "asin", lambda record: (
        clean(record.get("title")), clean(record.get("brand")),
        tokens(_category_names(record.get("categories"))), clean(record.get("description"))))

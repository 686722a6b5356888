"""Google Local 2021 per-state files: ``review-<State>.json.gz`` and ``meta-<State>.json.gz``.

Both are JSON, one record per line. Reviews: ``user_id``, ``name``, ``time`` (Unix milliseconds),
``rating``, ``text``, ``pics``, ``resp``, ``gmap_id``. Meta: ``name``, ``address``, ``gmap_id``,
``description``, ``category`` (a list), ``avg_rating``, ... (a business may appear twice: the first
record is used). ``--raw`` is the folder holding the state's two files under the published names
(gzip-compressed or not); when the complete review file is absent, the publisher's 10-core subset
``review-<State>_10.json.gz`` is used instead (the summary names the file that was read).

The full state files are large (Texas: tens of GB of JSON): rows stream through and only their
integer codes stay in memory (`interactions.InteractionTable`), and the meta file is read after
filtering, keeping the text of the surviving businesses only.

Output: ``.inter`` rows (user_id, gmap_id, rating, time in seconds with milliseconds); ``.item``
columns name, category (category names, spaces as ``_``) and description.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from m2rec.data import lines
from m2rec.data.lines import RawSource, ReadOptions, find_raw, finite
from m2rec.data.recbole_files import clean, identifier, tokens
from m2rec.data.registry import DatasetSpec

ITEM_COLUMNS = ("name:token_seq", "category:token_seq", "description:token_seq")
GMAP_ID = re.compile(rb'"gmap_id"\s*:\s*"([^"]+)"')
REVIEW_FIELDS = (("user_id", identifier), ("gmap_id", identifier), ("rating", finite), ("time", finite))


def locate(raw: Path, spec: DatasetSpec) -> tuple[RawSource, RawSource]:
    """(reviews, meta) of the state in the folder `raw`; a one-line error naming the URL if missing."""
    reviews, meta = spec.raw_files
    review_stem, meta_stem = f"review-{spec.state}", f"meta-{spec.state}"
    return (find_raw(raw, (reviews.name, f"{review_stem}.json", f"{review_stem}_10.json.gz"),
                     f"download {reviews.url()} into that folder"),
            find_raw(raw, (meta.name, f"{meta_stem}.json"), f"download {meta.url()} into that folder"))


def _category(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def interactions(reviews: RawSource, options: ReadOptions) -> Iterator[tuple[str, str, float, float]]:
    """(user_id, gmap_id, rating, time in seconds) for every valid review."""
    for user, item, rating, milliseconds in lines.records(reviews, options, REVIEW_FIELDS):
        yield user, item, rating, milliseconds / 1000


def item_texts(meta: RawSource, wanted: set[str], options: ReadOptions) -> dict[str, tuple[str, ...]]:
    """(name, category, description) of the businesses in `wanted`."""
    return lines.item_texts(meta, wanted, options, GMAP_ID, "gmap_id", lambda record: (
        clean(record.get("name")), tokens(_category(record.get("category"))), clean(record.get("description"))))

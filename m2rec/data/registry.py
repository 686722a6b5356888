"""The datasets of the paper: where their raw files come from, how they are converted, the default
filters, and the paper's Table III figures to compare against.

URLs (checked against the publishers' pages and public code that downloads them):

* MovieLens-1M: GroupLens, https://grouplens.org/datasets/movielens/1m/ ; the archive and its MD5
  sidecar (``ml-1m.zip.md5``, the publisher's checksum) are in
  https://files.grouplens.org/datasets/movielens/.
* Amazon 2014 Beauty: the McAuley UCSD page https://jmcauley.ucsd.edu/data/amazon/links.html links
  the per-category 5-core review file and metadata file on snap.stanford.edu.
* Google Local 2021: https://mcauleylab.ucsd.edu/public_datasets/gdrive/googlelocal/ links the
  per-state files ``review-<State>.json.gz`` and ``meta-<State>.json.gz`` in that same folder (the
  older host https://datarepo.eng.ucsd.edu/mcauley_group/gdrive/googlelocal/ has the same names).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from m2rec.data.errors import DataError
from m2rec.data.filters import FilterConfig

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
AMAZON_2014 = "https://snap.stanford.edu/data/amazon/productGraph/categoryFiles"
GOOGLE_LOCAL_2021 = "https://mcauleylab.ucsd.edu/public_datasets/gdrive/googlelocal"


@dataclass(frozen=True)
class RawFile:
    """One published raw file: its name, the folder URL it is served from, and the name of the
    publisher's MD5 sidecar file in that folder, if there is one."""

    name: str
    base_url: str
    md5_name: Optional[str] = None

    def url(self, mirror: Optional[str] = None) -> str:
        """The file's URL, or its URL in `mirror` (a folder URL holding files under the same names)."""
        return f"{(mirror or self.base_url).rstrip('/')}/{self.name}"

    def md5_url(self, mirror: Optional[str] = None) -> Optional[str]:
        """The checksum sidecar's URL (same folder), or None when the publisher gives none."""
        return None if self.md5_name is None else f"{(mirror or self.base_url).rstrip('/')}/{self.md5_name}"


@dataclass(frozen=True)
class PaperFigures:
    """Table III of the paper as printed (strings: some figures are approximate or absent).
    `average_per` says what the printed average divides by: "user" or "item" (see `stats`)."""

    users: str = "-"
    items: str = "-"
    interactions: str = "-"
    average: str = "-"
    average_per: str = "user"


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset that `python -m m2rec.data prepare` knows: `converter` is the module in
    `m2rec.data` that reads its raw files; `state` is the Google Local state file name."""

    name: str
    converter: str
    raw_files: tuple[RawFile, ...]
    paper: PaperFigures
    filters: FilterConfig = field(default_factory=FilterConfig)
    state: Optional[str] = None


def _google_local(name: str, state: str, paper: PaperFigures) -> DatasetSpec:
    """A Google Local 2021 state: its two files, and 5-core filtering without exact duplicates."""
    return DatasetSpec(
        name=name, converter="google_local", state=state, paper=paper,
        raw_files=(RawFile(f"review-{state}.json.gz", GOOGLE_LOCAL_2021),
                   RawFile(f"meta-{state}.json.gz", GOOGLE_LOCAL_2021)),
        filters=FilterConfig(dedupe=True))


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec(
        name="ml-1m", converter="movielens",
        raw_files=(RawFile("ml-1m.zip", GROUPLENS, md5_name="ml-1m.zip.md5"),),
        paper=PaperFigures("6,040", "3,416", "999,611", "165.6")),
    DatasetSpec(
        name="amazon-beauty", converter="amazon",
        raw_files=(RawFile("reviews_Beauty_5.json.gz", AMAZON_2014), RawFile("meta_Beauty.json.gz", AMAZON_2014)),
        paper=PaperFigures(interactions="~198K", average="8.9")),
    _google_local("nyc", "New_York", PaperFigures("6,195", "4,500", "478,903", "106.4", "item")),
    _google_local("california", "California", PaperFigures("7,272", "6,206", "369,469", "50.8")),
    _google_local("texas", "Texas", PaperFigures("24,559", "20,375", "1,344,379", "66.0", "item")),
)}


def get(name: str) -> DatasetSpec:
    """The spec of `name`; otherwise a one-line `DataError` listing the known names."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]

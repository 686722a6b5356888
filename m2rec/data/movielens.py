"""MovieLens-1M from GroupLens' ``ml-1m.zip``: ``ratings.dat`` and ``movies.dat``.

Both files are ``::``-separated and Latin-1 encoded (titles such as "Misérables, Les"); lines are
decoded as UTF-8 when they are valid UTF-8 and as Latin-1 otherwise, so a re-saved UTF-8 copy works
too. ``--raw`` may be the zip file, a folder holding ``ml-1m.zip``, or the extracted folder
(``ratings.dat`` and ``movies.dat`` directly inside it or in its ``ml-1m/`` subfolder).

Output: ``.inter`` rows (UserID, MovieID, Rating, Timestamp); ``.item`` in RecBole's own ml-1m
layout: the title without its trailing "(year)", the year, and the genres separated by spaces.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from m2rec.data.errors import DataError
from m2rec.data.lines import LineFile, RawSource, ReadOptions, finite
from m2rec.data.recbole_files import clean, identifier
from m2rec.data.registry import DatasetSpec

ITEM_COLUMNS = ("movie_title:token_seq", "release_year:token", "genre:token_seq")
ARCHIVE = "ml-1m.zip"
TITLE_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


def _find(raw: Path, member: str) -> RawSource:
    """`member` (ratings.dat or movies.dat) of the archive or of an extracted folder at `raw`."""
    if raw.is_file():
        return RawSource(raw, f"ml-1m/{member}")
    if (raw / ARCHIVE).is_file():
        return RawSource(raw / ARCHIVE, f"ml-1m/{member}")
    for folder in (raw, raw / "ml-1m"):
        if (folder / member).is_file():
            return RawSource(folder / member)
    raise DataError(f"no {ARCHIVE} or {member} at {raw}; download "
                    "https://files.grouplens.org/datasets/movielens/ml-1m.zip and pass it with --raw")


def locate(raw: Path, spec: DatasetSpec) -> tuple[RawSource, RawSource]:
    """(ratings, movies) at `raw`; a one-line error if either is missing."""
    return _find(raw, "ratings.dat"), _find(raw, "movies.dat")


def _split(source: LineFile, line: bytes, count: int) -> list[str]:
    fields = source.text(line).split("::")
    return fields if len(fields) == count else []


def interactions(ratings: RawSource, options: ReadOptions) -> Iterator[tuple[str, str, float, float]]:
    """(user, movie, rating, timestamp) for every valid line of ratings.dat."""
    source = ratings.open(options)
    for number, line in source:
        fields = _split(source, line, 4)
        if not fields:
            source.skip(number, "not 4 '::'-separated fields")
            continue
        user, item = identifier(fields[0].strip()), identifier(fields[1].strip())
        rating, timestamp = finite(fields[2]), finite(fields[3])
        if user is None or item is None or rating is None or timestamp is None:
            source.skip(number, "bad UserID, MovieID, Rating or Timestamp")
            continue
        yield user, item, rating, timestamp


def item_texts(movies: RawSource, wanted: set[str], options: ReadOptions) -> dict[str, tuple[str, ...]]:
    """(title, year, genres) of the movies in `wanted`, from movies.dat."""
    source = movies.open(options)
    texts: dict[str, tuple[str, ...]] = {}
    for number, line in source:
        fields = _split(source, line, 3)
        if not fields or identifier(fields[0].strip()) is None:
            source.skip(number, "not 3 '::'-separated fields MovieID::Title::Genres")
            continue
        item = fields[0].strip()
        if item not in wanted or item in texts:
            continue
        match = TITLE_YEAR.match(fields[1])
        title, year = (match[1], match[2]) if match else (fields[1], "")
        texts[item] = (clean(title), year, clean(fields[2].replace("|", " ")))
    return texts

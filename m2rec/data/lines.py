"""Raw files read one line at a time: gzip, zip members or plain text, with a progress bar and a
tally of the records that were skipped.

`LineFile` never loads a whole file. Malformed records are the converter's call to `skip`: by
default the record is dropped and counted (the summary names each reason and the first line where it
occurred); with `ReadOptions.strict` the first one stops the run with a one-line `DataError` naming
the file and line. A damaged or truncated compressed file always stops the run the same way: a
silently short dataset is never produced.
"""
from __future__ import annotations

import ast
import contextlib
import gzip
import json
import math
import os
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from tqdm import tqdm

from m2rec.data.errors import DataError
from m2rec.data.recbole_files import identifier

GZIP_MAGIC = b"\x1f\x8b"
PROGRESS_EVERY = 8192


def finite(value: Any) -> Optional[float]:
    """`value` (a number or numeric string) as a finite float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class RawSource:
    """Where a converter reads one kind of record: a file, or a member of the zip archive `path`."""

    path: Path
    member: Optional[str] = None

    def open(self, options: "ReadOptions") -> "LineFile":
        """A `LineFile` over this source (registered in `options.files`)."""
        return LineFile(self.path, options, self.member)


def find_raw(raw: Path, names: Sequence[str], hint: str) -> RawSource:
    """The first of `names` found as `raw` itself or inside the folder `raw`; otherwise a one-line
    error that ends with `hint` (where to get the file)."""
    for name in names:
        if raw.is_file() and raw.name == name:
            return RawSource(raw)
        if (raw / name).is_file():
            return RawSource(raw / name)
    raise DataError(f"no {names[0]} at {raw}; {hint}")


@dataclass
class ReadOptions:
    """How to read raw files: `strict` stops at the first bad record; every `LineFile` opened with
    these options registers itself in `files`, so the caller can print all summaries."""

    strict: bool = False
    show_progress: bool = True
    files: list["LineFile"] = field(default_factory=list)


class LineFile:
    """One raw file (or one member of a zip archive), iterated as ``(line_number, bytes)``."""

    def __init__(self, path: Path, options: ReadOptions, member: Optional[str] = None) -> None:
        self.path = Path(path)
        self.member = member
        self.options = options
        self.label = f"{self.path}:{member}" if member else str(self.path)
        self.short = f"{self.path.name}:{member}" if member else self.path.name
        self.lines = 0
        self.skipped: Counter[str] = Counter()
        self.first_line: dict[str, int] = {}
        self.notes: Counter[str] = Counter()
        options.files.append(self)

    @contextlib.contextmanager
    def _open(self) -> Iterator[tuple[Any, Callable[[], int], int]]:
        """Yield (binary line stream, bytes-done function, total bytes) for the progress bar."""
        if self.member is not None:
            try:
                archive = zipfile.ZipFile(self.path)
            except zipfile.BadZipFile:
                raise DataError(f"{self.path} is not a complete zip archive; download it again") from None
            with archive:
                try:
                    info = archive.getinfo(self.member)
                except KeyError:
                    raise DataError(f"{self.path} has no member {self.member}; is it the right archive?") from None
                with archive.open(info) as stream:
                    yield stream, stream.tell, info.file_size
            return
        with open(self.path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            with stream:
                yield stream, raw.tell, os.path.getsize(self.path)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        with self._open() as (stream, done, total), tqdm(
                total=total, unit="B", unit_scale=True, desc=self.short,
                disable=not self.options.show_progress, leave=False) as bar:
            try:
                for self.lines, line in enumerate(stream, start=1):
                    if self.lines % PROGRESS_EVERY == 0:
                        bar.update(done() - bar.n)
                    if line.strip():
                        yield self.lines, line
            except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as err:
                raise DataError(f"{self.label}: cannot read past line {self.lines} ({err}); the file is "
                                "damaged or incomplete: download it again") from None

    def skip(self, line_number: int, reason: str) -> None:
        """Drop the record at `line_number` for `reason` (or stop, in strict mode)."""
        if self.options.strict:
            raise DataError(f"{self.label} line {line_number}: {reason}; fix or delete that line, or run "
                            "without --strict to skip and count such records")
        self.skipped[reason] += 1
        self.first_line.setdefault(reason, line_number)

    def text(self, line: bytes) -> str:
        """The line without its end, decoded as UTF-8, else as Latin-1 (ML-1M's encoding; counted)."""
        line = line.rstrip(b"\r\n")
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.notes["lines read as Latin-1"] += 1
            return line.decode("latin-1")

    def record(self, line_number: int, line: bytes) -> Optional[dict]:
        """The line as a dict: JSON, else a Python literal (the Amazon 2014 meta files); None (and
        skipped) when it is neither."""
        try:
            value = json.loads(line)
        except ValueError:
            try:
                value = ast.literal_eval(line.decode("utf-8").strip())
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                self.skip(line_number, "neither JSON nor a Python literal (bad line or encoding)")
                return None
        if not isinstance(value, dict):
            self.skip(line_number, "not a JSON object")
            return None
        return value

    def fields(self, line_number: int, record: dict,
               parsers: Sequence[tuple[str, Callable[[Any], Any]]]) -> Optional[list]:
        """``[parse(record[key]) for key, parse in parsers]``; None (and skipped) at the first key
        that is missing or that its parser rejects (returns None)."""
        values = []
        for key, parse in parsers:
            value = parse(record.get(key))
            if value is None:
                self.skip(line_number, f"missing or bad field {key!r}")
                return None
            values.append(value)
        return values

    def summary(self) -> str:
        """One line: lines read, records skipped per reason (with the first line), notes."""
        total = sum(self.skipped.values())
        parts = [f"{self.short}: {self.lines:,} lines"]
        if total:
            reasons = ", ".join(f"{count:,} {reason} (first at line {self.first_line[reason]})"
                                for reason, count in self.skipped.most_common())
            parts.append(f"{total:,} skipped: {reasons}")
        else:
            parts.append("none skipped")
        parts.extend(f"{count:,} {note}" for note, count in self.notes.items())
        return "; ".join(parts)


def records(source: RawSource, options: ReadOptions, fields) -> Iterator[tuple]:
    """The typed `fields` of every valid record of a JSON-lines file (bad ones skipped or fatal per options)."""
    lines = source.open(options)
    for number, line in lines:
        record = lines.record(number, line)
        values = None if record is None else lines.fields(number, record, fields)
        if values is not None:
            yield values


def item_texts(meta: RawSource, wanted: set[str], options: ReadOptions, id_pattern: re.Pattern,
               id_field: str, describe: Callable[[dict], tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """`describe(record)` for the items in `wanted`, first record per item. Lines whose id
    (`id_pattern` on the raw bytes) is not wanted are skipped before parsing."""
    lines = meta.open(options)
    texts: dict[str, tuple[str, ...]] = {}
    for number, line in lines:
        found = id_pattern.search(line)
        if found and found[1].decode("utf-8", "replace") not in wanted:
            continue
        record = lines.record(number, line)
        values = None if record is None else lines.fields(number, record, ((id_field, identifier),))
        if values is None or values[0] not in wanted or values[0] in texts:
            continue
        texts[values[0]] = describe(record)
    return texts


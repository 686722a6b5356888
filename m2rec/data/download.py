"""Resumable, checked downloads of the raw files, with a progress bar.

`fetch(url, dest)` writes to ``<dest>.part`` and renames it to `dest` only once the transfer is
complete: the size announced by the server is reached and, where the publisher gives a checksum
(GroupLens' ``ml-1m.zip.md5``), the MD5 matches. A dropped connection is resumed with an HTTP
``Range`` request, here (up to `RETRIES` times while bytes keep arriving) or by the next run, which
finds the ``.part`` file. Errors are one-line `DownloadError`s naming the URL and what to do.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from m2rec.data.errors import DownloadError

CHUNK = 1 << 20
RETRIES = 5
TIMEOUT_S = 60
USER_AGENT = "m2rec-data/0.1"
MD5_HEX = re.compile(r"\b[0-9a-fA-F]{32}\b")
CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-\d+/(\d+)")
RANGE_TOTAL = re.compile(r"/(\d+)\s*$")


class _RangeRefused(Exception):
    """HTTP 416: the server will not send bytes from the requested start (e.g. none are left)."""

    def __init__(self, content_range: str) -> None:
        super().__init__(content_range)
        self.content_range = content_range


class _Dropped(Exception):
    """The connection ended before the announced size; `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _one_line(error: object) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _open(url: str, start: int, advice: str) -> http.client.HTTPResponse:
    """The server's response to a GET of `url` from byte `start`."""
    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        if err.code == 416 and start:
            raise _RangeRefused(err.headers.get("Content-Range", "")) from None
        raise DownloadError(f"{url} answered HTTP {err.code} {_one_line(err.reason)}; {advice}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        raise DownloadError(f"cannot download {url} ({_one_line(reason)}); {advice}") from None


def _transfer(url: str, part: Path, show_progress: bool, advice: str) -> None:
    """Append the rest of `url` to `part` (or rewrite it if the server ignores the Range);
    raise `_Dropped` if fewer bytes than announced arrive."""
    have = _size(part)
    try:
        response = _open(url, have, advice)
    except _RangeRefused as refused:
        total = RANGE_TOTAL.search(refused.content_range)
        if total and int(total[1]) == have:
            return
        part.unlink()
        raise DownloadError(f"{url} cannot resume {part} (HTTP 416); the partial file was deleted: run again") from None
    with response:
        if have and response.status == 206:
            match = CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match[1]) != have:
                part.unlink()
                raise DownloadError(f"{url} resumed at the wrong place ({response.headers.get('Content-Range')}); "
                                    f"the partial file was deleted: run again")
            start, total = have, int(match[2])
        else:
            length = response.headers.get("Content-Length")
            start, total = 0, (int(length) if length else None)
        reason = "the connection closed early"
        with open(part, "ab" if start else "wb") as out, tqdm(
                total=total, initial=start, unit="B", unit_scale=True, desc=part.name[:-len(".part")],
                disable=not show_progress, leave=False) as bar:
            try:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
            except (http.client.HTTPException, OSError) as err:
                reason = _one_line(err)
            got = out.tell()
    if total is not None and got > total:
        part.unlink()
        raise DownloadError(f"{url} sent {got:,} bytes but announced {total:,}; the file was deleted: run again")
    if total is not None and got < total:
        raise _Dropped(f"{reason} at {got:,} of {total:,} bytes")


def publisher_md5(md5_url: str, advice: str) -> str:
    """The MD5 in the publisher's sidecar file (e.g. ``MD5 (ml-1m.zip) = c4d9...``)."""
    with _open(md5_url, 0, advice) as response:
        found = MD5_HEX.search(response.read(4096).decode("ascii", "replace"))
    if not found:
        raise DownloadError(f"{md5_url} holds no MD5 checksum; {advice}")
    return found[0].lower()


def file_md5(path: Path) -> str:
    """The MD5 of `path`, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url: str, dest: Path, *, md5_url: Optional[str] = None, show_progress: bool = True,
          advice: str = "try again later") -> Path:
    """Download `url` to `dest` (kept if it exists), checked and resumable; see the module doc.

    `advice` ends every error message (e.g. how to download and convert by hand)."""
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    expected = publisher_md5(md5_url, advice) if md5_url else None
    for attempt in range(RETRIES + 1):
        before = _size(part)
        try:
            _transfer(url, part, show_progress, advice)
            break
        except _Dropped as dropped:
            if attempt == RETRIES or _size(part) <= before:
                raise DownloadError(f"download of {url} stopped ({dropped.reason}); run the same command "
                                    f"again to resume from {part}, or {advice}") from None
    if expected is not None:
        actual = file_md5(part)
        if actual != expected:
            part.unlink()
            raise DownloadError(f"{url} has MD5 {actual}, but the publisher's {md5_url} says {expected}; "
                                f"the download was deleted: run again, or {advice}")
    os.replace(part, dest)
    return dest

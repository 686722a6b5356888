"""Peak memory of a conversion on a generated Google Local input of a chosen size.

`generate_google_local` writes ``review-New_York.json.gz`` and ``meta-New_York.json.gz`` in the
published format (21-digit user ids, ``0x...:0x...`` business ids, millisecond times, review texts of
a few hundred characters, about 500 bytes per review line), with about one user per 7 reviews and
one business per 120 reviews, chosen uniformly at random. `memcheck` then prepares it as
``nyc`` in a fresh child process and reports the child's peak resident
memory during the conversion (the kernel's high-water mark, reset once the imports are done, so the
fixed cost of importing Python, numpy and `m2rec` is reported apart). Linux only (/proc).
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from m2rec.data.errors import DataError

STATE = "New_York"
REVIEWS_PER_USER = 7
REVIEWS_PER_BUSINESS = 120
BATCH = 100_000
LINE_BYTES = 490
WORDS = ("great food friendly staff service place clean price nice busy parking slow coffee "
         "pizza open late rude fresh store helpful wait line room music quiet best worst ok").split()


@dataclass(frozen=True)
class Generated:
    """What `generate_google_local` wrote."""

    reviews: int
    uncompressed_bytes: int
    compressed_bytes: int


def _texts(rng: np.random.Generator, count: int) -> list[str]:
    """`count` JSON-encoded review texts of 200-400 characters."""
    texts = []
    for _ in range(count):
        words = rng.choice(WORDS, size=int(rng.integers(35, 70))).tolist()
        texts.append(json.dumps(" ".join(words).capitalize() + "."))
    return texts


def generate_google_local(folder: Path, size_bytes: int, seed: int = 0) -> Generated:
    """Write a review file of about `size_bytes` uncompressed bytes and its meta file to `folder`."""
    rng = np.random.default_rng(seed)
    texts = _texts(rng, 1000)
    expected_reviews = max(1, size_bytes // LINE_BYTES)
    users = max(1, expected_reviews // REVIEWS_PER_USER)
    businesses = max(1, expected_reviews // REVIEWS_PER_BUSINESS)
    folder.mkdir(parents=True, exist_ok=True)
    written = reviews = 0
    review_path = folder / f"review-{STATE}.json.gz"
    with gzip.open(review_path, "wt", encoding="utf-8", compresslevel=1) as out:
        while written < size_bytes:
            count = min(BATCH, max(1, (size_bytes - written) // LINE_BYTES))
            user = rng.integers(0, users, count).tolist()
            business = rng.integers(0, businesses, count).tolist()
            when = rng.integers(1_300_000_000_000, 1_630_000_000_000, count).tolist()
            rating = rng.integers(1, 6, count).tolist()
            text = rng.integers(0, len(texts), count).tolist()
            lines = "".join(
                f'{{"user_id": "{10**20 + u * 7_919}", "name": "User {u}", "time": {t}, "rating": {r}, '
                f'"text": {texts[x]}, "pics": null, "resp": null, "gmap_id": "0x{b:016x}:0x{b * 31:016x}"}}\n'
                for u, b, t, r, x in zip(user, business, when, rating, text))
            written += len(lines.encode("utf-8"))
            reviews += count
            out.write(lines)
    with gzip.open(folder / f"meta-{STATE}.json.gz", "wt", encoding="utf-8", compresslevel=1) as out:
        for b in range(businesses):
            out.write(json.dumps({"name": f"Business {b}", "address": f"{b} Main St, New York, NY", "gmap_id":
                                  f"0x{b:016x}:0x{b * 31:016x}", "description": None, "latitude": 40.7,
                                  "longitude": -74.0, "category": ["Restaurant", "Pizza restaurant"],
                                  "avg_rating": 4.1, "num_of_reviews": 120, "price": "$$", "hours": None,
                                  "MISC": None, "state": "Open", "relative_results": [], "url": ""}) + "\n")
    return Generated(reviews=reviews, uncompressed_bytes=written, compressed_bytes=review_path.stat().st_size)


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise DataError(f"/proc/self/status has no {field}; memcheck needs Linux")


def measure_prepare(raw: str, out: str) -> None:
    """Run in a fresh process: prepare `nyc` from `raw` into `out` and print three numbers: resident
    memory after the imports, the peak resident memory during `prepare` (the kernel's high-water mark,
    reset after the imports), and the seconds it took."""
    from m2rec.data.convert import prepare

    after_imports = _status_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    started = time.monotonic()
    prepare("nyc", raw, out, force=True, show_progress=False)
    print(after_imports, _status_bytes("VmHWM"), time.monotonic() - started)


def memcheck(workdir: Path, size_bytes: int) -> str:
    """Generate an input of `size_bytes`, prepare it as `nyc` in a child process, describe its memory."""
    generated = generate_google_local(workdir / "raw", size_bytes)
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from m2rec.data.memcheck import measure_prepare; "
         "measure_prepare(*sys.argv[1:])", str(workdir / "raw"), str(workdir / "out")],
        capture_output=True, text=True, check=False)
    if child.returncode:
        raise DataError(f"the measured conversion failed: {' '.join(child.stderr.split()[-30:])}")
    after_imports, peak, seconds = (float(value) for value in child.stdout.split()[-3:])
    mib = 2 ** 20
    return (f"input: {generated.reviews:,} reviews, {generated.uncompressed_bytes / mib:,.0f} MiB of JSON "
            f"({generated.compressed_bytes / mib:,.0f} MiB gzipped)\n"
            f"prepare nyc: {seconds:,.1f} s; resident memory {after_imports / mib:,.0f} MiB after the imports, "
            f"peak {peak / mib:,.0f} MiB during the conversion (+{(peak - after_imports) / mib:,.0f} MiB)")

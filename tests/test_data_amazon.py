"""amazon-beauty converter on small 2014-format fixtures (JSON reviews, Python-literal meta)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from m2rec.data import DataError
from m2rec.data.convert import prepare
from m2rec.data.filters import FilterConfig

REVIEWS = [
    {"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1391040000, "reviewText": "Nice"},
    {"reviewerID": "A1", "asin": "B2", "overall": 4.0, "unixReviewTime": 1391040000},
    {"reviewerID": "A2", "asin": "B1", "overall": 3.0, "unixReviewTime": 1300000000},
    {"reviewerID": "A2", "asin": "B2", "overall": 2.0, "unixReviewTime": 1400000000},
    "{not json",
    {"reviewerID": "A2", "asin": "B3", "overall": 4.5, "unixReviewTime": 1350000000},
    {"reviewerID": "A3", "asin": "B3", "overall": 5.0},
    {"reviewerID": "A3", "asin": "B3", "overall": 5.0, "unixReviewTime": 1200000000},
    b'{"reviewerID": "A3", "asin": "B\xff", "overall": 5.0, "unixReviewTime": 1200000000}',
    {"reviewerID": "A3", "asin": "B2", "overall": 1.0, "unixReviewTime": 1200000001},
]
META = [
    repr({"asin": "B0", "title": "not in the dataset", "categories": [["Beauty"]]}),
    repr({"asin": "B2", "title": 'Nail "Polish"\tRed', "brand": "OPI", "price": 8.5,
          "categories": [["Beauty", "Makeup", "Nails", "Nail Polish"], ["Beauty", "Nails"]],
          "description": "Line one\nline two"}),
    json.dumps({"asin": "B1", "title": "Strict JSON", "categories": [["Beauty", "Skin Care"]], "description": "Soft."}),
    "{'asin': 'B3', 'title': 'broken",
    repr({"asin": "B1", "title": "a second record: ignored"}),
]
EXPECTED_INTER = ("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                  "A1\tB1\t5\t1391040000\n"
                  "A1\tB2\t4\t1391040000\n"
                  "A2\tB1\t3\t1300000000\n"
                  "A2\tB3\t4.5\t1350000000\n"
                  "A2\tB2\t2\t1400000000\n"
                  "A3\tB3\t5\t1200000000\n"
                  "A3\tB2\t1\t1200000001\n")
EXPECTED_ITEM = ("item_id:token\ttitle:token_seq\tbrand:token\tcategories:token_seq\tdescription:token_seq\n"
                 "B1\tStrict JSON\t\tBeauty Skin_Care\tSoft.\n"
                 "B2\tNail 'Polish' Red\tOPI\tBeauty Makeup Nails Nail_Polish\tLine one line two\n"
                 "B3\t\t\t\t\n")
TWO_CORE = FilterConfig(user_core=2, item_core=2)


def _line(record) -> bytes:
    if isinstance(record, bytes):
        return record
    return (record if isinstance(record, str) else json.dumps(record)).encode("utf-8")


def write_raw(folder: Path, compress: bool = True) -> Path:
    """reviews_Beauty_5.json(.gz) and meta_Beauty.json(.gz) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in (("reviews_Beauty_5.json", REVIEWS), ("meta_Beauty.json", META)):
        data = b"\n".join(_line(record) for record in records) + b"\n"
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("compress", [True, False])
def test_exact_atomic_files_with_bad_lines_counted(tmp_path, compress):
    raw = write_raw(tmp_path / "raw", compress)
    report = prepare("amazon-beauty", raw, tmp_path / "out", filters=TWO_CORE, show_progress=False)
    folder = tmp_path / "out" / "amazon-beauty"
    assert (folder / "amazon-beauty.inter").read_text(encoding="utf-8") == EXPECTED_INTER
    assert (folder / "amazon-beauty.item").read_text(encoding="utf-8") == EXPECTED_ITEM
    suffix = ".gz" if compress else ""
    assert report.lines[:2] == [
        f"reviews_Beauty_5.json{suffix}: 10 lines; 3 skipped: 2 neither JSON nor a Python literal (bad line or "
        "encoding) (first at line 5), 1 missing or bad field 'unixReviewTime' (first at line 7)",
        f"meta_Beauty.json{suffix}: 5 lines; 1 skipped: 1 neither JSON nor a Python literal (bad line or "
        "encoding) (first at line 4)"]
    assert report.lines[3].endswith("(1 of 3 items without text)")


def test_strict_names_file_and_line(tmp_path):
    raw = write_raw(tmp_path / "raw")
    with pytest.raises(DataError, match=r"reviews_Beauty_5.json.gz line 5: neither JSON nor a Python literal"):
        prepare("amazon-beauty", raw, tmp_path / "out", filters=TWO_CORE, strict=True, show_progress=False)


def test_missing_meta_is_reported_before_reading_reviews(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "meta_Beauty.json.gz").unlink()
    with pytest.raises(DataError) as error:
        prepare("amazon-beauty", raw, tmp_path / "out", show_progress=False)
    assert str(error.value) == (f"no meta_Beauty.json.gz at {raw}; download https://snap.stanford.edu/data/amazon/"
                                "productGraph/categoryFiles/meta_Beauty.json.gz into that folder")


def test_truncated_gzip_stops_with_one_line(tmp_path):
    raw = write_raw(tmp_path / "raw")
    whole = (raw / "reviews_Beauty_5.json.gz").read_bytes()
    (raw / "reviews_Beauty_5.json.gz").write_bytes(whole[:len(whole) - 12])
    with pytest.raises(DataError, match=r"reviews_Beauty_5.json.gz: cannot read past line \d+ \(.*\); the file is "
                                        r"damaged or incomplete: download it again$"):
        prepare("amazon-beauty", raw, tmp_path / "out", filters=TWO_CORE, show_progress=False)
    assert not (tmp_path / "out" / "amazon-beauty").exists()


def test_wrong_file_gives_no_usable_interactions(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "reviews_Beauty_5.json.gz").write_bytes(gzip.compress(b"<html>rate limited</html>\n"))
    (raw / "meta_Beauty.json.gz").write_bytes(gzip.compress(b"\n"))
    with pytest.raises(DataError, match=r"^no usable interactions in .*reviews_Beauty_5.json.gz \(reviews_Beauty_5"
                                        r".json.gz: 1 lines; 1 skipped: .*; check --raw and the filters$"):
        prepare("amazon-beauty", raw, tmp_path / "out", show_progress=False)

"""Google Local converter (nyc / california / texas) on small 2021-format fixtures."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from m2rec.data import DataError
from m2rec.data.convert import prepare
from m2rec.data.filters import FilterConfig
from m2rec.data.memcheck import generate_google_local


def review(user, gmap_id, time, rating, **extra) -> dict:
    record = {"user_id": user, "name": "Ann", "time": time, "rating": rating, "text": "Great place",
              "pics": None, "resp": None, "gmap_id": gmap_id}
    record.update(extra)
    return record


REVIEWS = [
    review("101", "0xA:0x1", 1566331951619, 5),
    review("101", "0xA:0x1", 1566331951619, 5),
    review("101", "0xB:0x2", 1500000000000, 4, resp={"time": 1500000001000, "text": "Thanks"}),
    review("102", "0xA:0x1", 1600000000500, 3, pics=[{"url": ["https://example.org/a.jpg"]}]),
    review("102", "0xB:0x2", 1600000000000, 2, text=None),
    {key: value for key, value in review("103", "0xA:0x1", 1600000000000, 2).items() if key != "gmap_id"},
    review("103", "0xA:0x1", 1600000000000, None),
    '{"user_id": "104", "time": 16',
]
META = [
    {"name": 'Joe\'s "Pizza"', "address": "1 Main St", "gmap_id": "0xA:0x1", "description": "Best\tpizza\nin town",
     "latitude": 40.7, "longitude": -74.0, "category": ["Pizza restaurant", "Italian restaurant"], "avg_rating": 4.5,
     "num_of_reviews": 2, "price": "$", "hours": None, "MISC": None, "state": "Open", "relative_results": [],
     "url": "https://maps.google.com/?cid=1"},
    {"name": "A second record: ignored", "gmap_id": "0xA:0x1", "category": ["Other"]},
    {"name": "Cafe", "gmap_id": "0xB:0x2", "description": None, "category": None},
    {"name": "Not in the dataset", "gmap_id": "0xC:0x3", "category": ["x"]},
    "not json at all",
]
EXPECTED_INTER = ("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                  "101\t0xB:0x2\t4\t1500000000\n"
                  "101\t0xA:0x1\t5\t1566331951.619\n"
                  "102\t0xB:0x2\t2\t1600000000\n"
                  "102\t0xA:0x1\t3\t1600000000.5\n")
EXPECTED_ITEM = ("item_id:token\tname:token_seq\tcategory:token_seq\tdescription:token_seq\n"
                 "0xA:0x1\tJoe's 'Pizza'\tPizza_restaurant Italian_restaurant\tBest pizza in town\n"
                 "0xB:0x2\tCafe\t\t\n")


def write_raw(folder: Path, state: str = "New_York", review_name: str = "review-{state}.json.gz") -> Path:
    """The state's review and meta files (gzip) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in ((review_name.format(state=state), REVIEWS), (f"meta-{state}.json.gz", META)):
        text = "".join((record if isinstance(record, str) else json.dumps(record)) + "\n" for record in records)
        (folder / name).write_bytes(gzip.compress(text.encode("utf-8")))
    return folder


@pytest.mark.parametrize("name, state", [("nyc", "New_York"), ("california", "California"), ("texas", "Texas")])
def test_exact_atomic_files_for_each_state(tmp_path, name, state):
    raw = write_raw(tmp_path / "raw", state)
    report = prepare(name, raw, tmp_path / "out", filters=FilterConfig(user_core=2, item_core=2, dedupe=True),
                     show_progress=False)
    folder = tmp_path / "out" / name
    assert (folder / f"{name}.inter").read_text(encoding="utf-8") == EXPECTED_INTER
    assert (folder / f"{name}.item").read_text(encoding="utf-8") == EXPECTED_ITEM
    assert report.lines[:3] == [
        f"review-{state}.json.gz: 8 lines; 3 skipped: 1 missing or bad field 'gmap_id' (first at line 6), "
        "1 missing or bad field 'rating' (first at line 7), 1 neither JSON nor a Python literal (bad line or "
        "encoding) (first at line 8)",
        f"meta-{state}.json.gz: 5 lines; 1 skipped: 1 neither JSON nor a Python literal (bad line or encoding) "
        "(first at line 5)",
        "filters: no duplicate (user, item, time), 2-core users, 2-core items; rows dropped: 1 duplicates, "
        "0 k-core (0 k-core rounds)"]


def test_default_filters_are_five_core_with_dedupe(tmp_path):
    raw = write_raw(tmp_path / "raw")
    with pytest.raises(DataError, match=r"survive the filters \(no duplicate \(user, item, time\), 5-core users, "
                                        r"5-core items\)"):
        prepare("nyc", raw, tmp_path / "out", show_progress=False)


def test_rating_date_and_top_user_filters(tmp_path):
    raw = write_raw(tmp_path / "raw")
    one_core = {"user_core": 1, "item_core": 1}
    report = prepare("nyc", raw, tmp_path / "a", filters=FilterConfig(min_rating=3, dedupe=True, **one_core),
                     show_progress=False)
    assert (report.stats.users, report.stats.items, report.stats.interactions) == (2, 2, 3)
    assert "rows dropped: 1 outside rating/date, 1 duplicates, 0 k-core" in report.lines[2]
    report = prepare("nyc", raw, tmp_path / "b", filters=FilterConfig(since="2020-01-01", **one_core),
                     show_progress=False)
    assert (tmp_path / "b/nyc/nyc.inter").read_text().splitlines()[1:] == ["102\t0xB:0x2\t2\t1600000000",
                                                                           "102\t0xA:0x1\t3\t1600000000.5"]
    report = prepare("nyc", raw, tmp_path / "c", filters=FilterConfig(top_users=1, **one_core), show_progress=False)
    assert (report.stats.users, report.stats.interactions) == (1, 3)


def test_ten_core_file_is_used_when_the_full_one_is_absent(tmp_path):
    raw = write_raw(tmp_path / "raw", review_name="review-{state}_10.json.gz")
    report = prepare("nyc", raw, tmp_path / "out", filters=FilterConfig(user_core=2, item_core=2, dedupe=True),
                     show_progress=False)
    assert report.lines[0].startswith("review-New_York_10.json.gz: 8 lines")
    assert (tmp_path / "out/nyc/nyc.inter").read_text(encoding="utf-8") == EXPECTED_INTER


def test_missing_review_file_names_the_url(tmp_path):
    (tmp_path / "raw").mkdir()
    with pytest.raises(DataError) as error:
        prepare("texas", tmp_path / "raw", tmp_path / "out", show_progress=False)
    assert str(error.value) == (f"no review-Texas.json.gz at {tmp_path / 'raw'}; download https://mcauleylab.ucsd.edu"
                                "/public_datasets/gdrive/googlelocal/review-Texas.json.gz into that folder")


def test_generated_input_converts(tmp_path):
    generated = generate_google_local(tmp_path / "raw", 200_000)
    report = prepare("nyc", tmp_path / "raw", tmp_path / "out", show_progress=False)
    assert generated.uncompressed_bytes >= 200_000
    assert report.lines[0] == f"review-New_York.json.gz: {generated.reviews:,} lines; none skipped"
    assert report.stats.min_per_user >= 5 and report.stats.min_per_item >= 5


def test_memcheck_reports_the_conversion_peak(tmp_path):
    from m2rec.data.memcheck import memcheck

    lines = memcheck(tmp_path, 100_000).splitlines()
    assert lines[0].startswith("input: ") and lines[0].endswith(" MiB gzipped)")
    assert lines[1].startswith("prepare nyc: ") and " MiB after the imports, peak " in lines[1]
    assert (tmp_path / "out" / "nyc" / "nyc.inter").is_file()

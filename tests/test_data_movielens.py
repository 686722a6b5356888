"""ml-1m converter on a small GroupLens-format fixture (zip or folder, Latin-1, bad lines)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from m2rec.data import DataError
from m2rec.data.__main__ import main
from m2rec.data.convert import prepare
from m2rec.data.filters import FilterConfig

RATINGS = (b"1::10::5::978300760\n"
           b"1::20::3::978300700\n"
           b"1::30::4::978300800\n"
           b"2::10::4::978300000\n"
           b"4::10::x::978300003\n"
           b"2::20::5::978300001\n"
           b"5::10\n"
           b"3::30::2::978300002\n")
MOVIES = ("10::Mis\xe9rables, Les (1995)::Drama|Musical\n"
          "20::Seven (Se7en) (1995)::Crime|Thriller\n"
          "30::Toy Story (1995)::Animation|Children's|Comedy\n"
          "garbage\n").encode("latin-1")
TWO_CORE = FilterConfig(user_core=2, item_core=2)
EXPECTED_INTER = ("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                  "1\t20\t3\t978300700\n"
                  "1\t10\t5\t978300760\n"
                  "2\t10\t4\t978300000\n"
                  "2\t20\t5\t978300001\n")
EXPECTED_ITEM = ("item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\n"
                 "10\tMis\u00e9rables, Les\t1995\tDrama Musical\n"
                 "20\tSeven (Se7en)\t1995\tCrime Thriller\n")


def write_zip(path: Path, ratings: bytes = RATINGS, movies: bytes = MOVIES) -> Path:
    """A GroupLens-style ml-1m.zip with the two members the converter reads."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ml-1m/ratings.dat", ratings)
        archive.writestr("ml-1m/movies.dat", movies)
        archive.writestr("ml-1m/users.dat", b"1::F::1::10::48067\n")
    return path


def test_zip_to_exact_atomic_files(tmp_path):
    archive = write_zip(tmp_path / "ml-1m.zip")
    report = prepare("ml-1m", archive, tmp_path / "out", filters=TWO_CORE, show_progress=False)
    folder = tmp_path / "out" / "ml-1m"
    assert report.folder == folder
    assert sorted(path.name for path in folder.iterdir()) == ["ml-1m.inter", "ml-1m.item"]
    assert (folder / "ml-1m.inter").read_text(encoding="utf-8") == EXPECTED_INTER
    assert (folder / "ml-1m.item").read_text(encoding="utf-8") == EXPECTED_ITEM
    assert (report.stats.users, report.stats.items, report.stats.interactions) == (2, 2, 4)
    assert report.lines[0] == ("ml-1m.zip:ml-1m/ratings.dat: 8 lines; 2 skipped: 1 bad UserID, MovieID, Rating or "
                               "Timestamp (first at line 5), 1 not 4 '::'-separated fields (first at line 7)")
    assert report.lines[1] == ("ml-1m.zip:ml-1m/movies.dat: 4 lines; 1 skipped: 1 not 3 '::'-separated fields "
                               "MovieID::Title::Genres (first at line 4); 1 lines read as Latin-1")
    assert report.lines[2] == ("filters: 2-core users, 2-core items; rows dropped: 2 k-core (2 k-core rounds)")


@pytest.mark.parametrize("layout", ["folder with zip", "extracted", "extracted subfolder"])
def test_other_raw_layouts_give_the_same_files(tmp_path, layout):
    raw = tmp_path / "raw"
    target = {"folder with zip": raw, "extracted": raw, "extracted subfolder": raw / "ml-1m"}[layout]
    target.mkdir(parents=True)
    if layout == "folder with zip":
        write_zip(raw / "ml-1m.zip")
    else:
        (target / "ratings.dat").write_bytes(RATINGS)
        (target / "movies.dat").write_bytes(MOVIES)
    prepare("ml-1m", raw, tmp_path / "out", filters=TWO_CORE, show_progress=False)
    assert (tmp_path / "out/ml-1m/ml-1m.inter").read_text(encoding="utf-8") == EXPECTED_INTER
    assert (tmp_path / "out/ml-1m/ml-1m.item").read_text(encoding="utf-8") == EXPECTED_ITEM


def test_utf8_titles_are_read_as_utf8(tmp_path):
    archive = write_zip(tmp_path / "ml-1m.zip", movies=MOVIES.decode("latin-1").encode("utf-8"))
    report = prepare("ml-1m", archive, tmp_path / "out", filters=TWO_CORE, show_progress=False)
    assert (tmp_path / "out/ml-1m/ml-1m.item").read_text(encoding="utf-8") == EXPECTED_ITEM
    assert "Latin-1" not in report.lines[1]


def test_strict_stops_at_the_first_bad_line_with_one_line(tmp_path):
    archive = write_zip(tmp_path / "ml-1m.zip")
    with pytest.raises(DataError) as error:
        prepare("ml-1m", archive, tmp_path / "out", filters=TWO_CORE, strict=True, show_progress=False)
    assert str(error.value) == (f"{archive}:ml-1m/ratings.dat line 5: bad UserID, MovieID, Rating or Timestamp; "
                                "fix or delete that line, or run without --strict to skip and count such records")
    assert not (tmp_path / "out" / "ml-1m").exists()


def test_damaged_archive_and_missing_raw_are_one_line_errors(tmp_path):
    broken = tmp_path / "ml-1m.zip"
    broken.write_bytes(write_zip(tmp_path / "good.zip").read_bytes()[:100])
    with pytest.raises(DataError, match="is not a complete zip archive; download it again"):
        prepare("ml-1m", broken, tmp_path / "out", show_progress=False)
    with pytest.raises(DataError, match=r"no ml-1m.zip or ratings.dat at .*empty; download https://files"):
        (tmp_path / "empty").mkdir()
        prepare("ml-1m", tmp_path / "empty", tmp_path / "out", show_progress=False)


def test_cli_default_five_core_empties_the_fixture_with_one_line(tmp_path, capsys):
    archive = write_zip(tmp_path / "ml-1m.zip")
    status = main(["prepare", "ml-1m", "--raw", str(archive), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1
    assert err == ("error: no interactions of ml-1m survive the filters (5-core users, 5-core items); lower the "
                   "k-core thresholds or widen the filters\n")


def test_cli_options_override_the_defaults(tmp_path, capsys):
    archive = write_zip(tmp_path / "ml-1m.zip")
    status = main(["prepare", "ml-1m", "--raw", str(archive), "--out", str(tmp_path / "out"), "--no-progress",
                   "--user-core", "2", "--item-core", "2"])
    out = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert (tmp_path / "out/ml-1m/ml-1m.inter").read_text(encoding="utf-8") == EXPECTED_INTER
    assert out[-3:] == ["ml-1m users items interactions avg/user avg/item min/user min/item",
                        "measured 2 2 4 2.0 2.0 2 2",
                        "paper Table III 6,040 3,416 999,611 165.6"]


def test_cli_file_order_keeps_ratings_dat_order_within_a_user(tmp_path):
    archive = write_zip(tmp_path / "ml-1m.zip")
    assert main(["prepare", "ml-1m", "--raw", str(archive), "--out", str(tmp_path / "out"), "--no-progress",
                 "--user-core", "2", "--item-core", "2", "--file-order"]) == 0
    lines = (tmp_path / "out/ml-1m/ml-1m.inter").read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines == [EXPECTED_INTER.splitlines(keepends=True)[k] for k in (0, 2, 1, 3, 4)]  # user 1: 10 before 20

"""Statistics of prepared datasets beside Table III, and the command line as a user runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from m2rec.data import DataError
from m2rec.data.stats import DatasetStats, inter_path, measure, table

INTER = ("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
         "u1\ti1\t5\t1\nu1\ti2\t4\t2\nu1\ti3\t3\t3\nu2\ti1\t5\t4\nu2\ti2\t1\t5\n")


def _dataset(root: Path, name: str, text: str = INTER) -> Path:
    (root / name).mkdir(parents=True)
    (root / name / f"{name}.inter").write_text(text)
    return root / name / f"{name}.inter"


def test_measure_counts_users_items_rows_and_minima(tmp_path):
    path = _dataset(tmp_path, "toy")
    assert measure(path) == DatasetStats(users=2, items=3, interactions=5, min_per_user=2, min_per_item=1,
                                         tied_targets=0, float32_tied_targets=0)
    assert inter_path(tmp_path, "toy") == path == inter_path(tmp_path / "toy", "toy")


def test_tied_targets_are_users_whose_last_two_times_share_a_second(tmp_path):
    rows = ["u1\ti1\t5\t10.2", "u1\ti2\t4\t10.9", "u1\ti3\t3\t3",  # last two (10.9, 10.2): tied
            "u2\ti1\t5\t10", "u2\ti2\t1\t11",  # a second apart: not tied
            "u3\ti1\t5\t7", "u3\ti3\t2\t7", "u3\ti2\t2\t9",  # the tie is not the last two
            "u4\ti2\t5\t4"]  # one interaction
    path = _dataset(tmp_path, "ties", INTER.splitlines()[0] + "\n" + "\n".join(rows) + "\n")
    assert measure(path).tied_targets == 1
    untimed = _dataset(tmp_path, "untimed", "user_id:token\titem_id:token\nu1\ti1\nu1\ti2\n")
    assert measure(untimed).tied_targets is None
    assert measure(untimed).float32_tied_targets is None
    assert "share a second" not in table("untimed", measure(untimed))


def test_float32_tied_targets_are_equal_as_recbole_sorts_them(tmp_path):
    # 978824291 and 978824351 are 60 s apart and both 978824320 in float32; 978824256 is the next value down
    rows = ["u1\ti1\t5\t978824291", "u1\ti2\t4\t978824351",   # tied in float32 only
            "u2\ti1\t5\t978824256", "u2\ti2\t1\t978824300",   # 44 s apart, different float32 values
            "u3\ti1\t5\t978824351.2", "u3\ti3\t2\t978824351.9"]  # the same second
    path = _dataset(tmp_path, "f32", INTER.splitlines()[0] + "\n" + "\n".join(rows) + "\n")
    stats = measure(path)
    assert (stats.tied_targets, stats.float32_tied_targets) == (1, 2)
    assert table("f32", stats).splitlines()[-1] == (
        "... and whose last two are equal as RecBole sorts them (float32 timestamps; set by file order if the file "
        "is not in time order): 2 (66.7%)")


def test_table_puts_the_paper_average_under_what_it_divides(tmp_path):
    stats = DatasetStats(users=4, items=2, interactions=10, min_per_user=2, min_per_item=5, tied_targets=1)
    assert table("nyc", stats).splitlines() == [
        "nyc              users  items  interactions  avg/user  avg/item  min/user  min/item",
        "measured             4      2            10       2.5       5.0         2         5",
        "paper Table III  6,195  4,500       478,903               106.4",
        "users whose last two interactions share a second (test vs validation target set by tie order): 1 (25.0%)"]
    assert table("mine", stats).splitlines()[1:2] == [
        "measured      4      2            10       2.5       5.0         2         5"]


def test_missing_or_malformed_inter_is_one_line(tmp_path):
    with pytest.raises(DataError, match=r"^no toy.inter in .*; prepare it first: python -m m2rec.data prepare toy "):
        inter_path(tmp_path, "toy")
    path = _dataset(tmp_path, "bad", INTER + "u3\ti1\n")
    with pytest.raises(DataError, match=r"bad.inter line 7: 2 cells for 4 columns; prepare the dataset again$"):
        measure(path)


def test_command_line_as_a_user_runs_it(tmp_path):
    _dataset(tmp_path, "ml-1m")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "m2rec.data", "stats", str(tmp_path), "ml-1m"],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert [" ".join(line.split()) for line in result.stdout.splitlines()] == [
        str(tmp_path / "ml-1m" / "ml-1m.inter"),
        "ml-1m users items interactions avg/user avg/item min/user min/item",
        "measured 2 3 5 2.5 1.7 2 1",
        "paper Table III 6,040 3,416 999,611 165.6",
        "users whose last two interactions share a second (test vs validation target set by tie order): 0 (0.0%)",
        "... and whose last two are equal as RecBole sorts them (float32 timestamps; set by file order if the file "
        "is not in time order): 0 (0.0%)"]
    result = subprocess.run([sys.executable, "-m", "m2rec.data", "stats", str(tmp_path), "nyc"],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1
    assert result.stderr == (f"error: no nyc.inter in {tmp_path / 'nyc'} or {tmp_path}; prepare it first: "
                             f"python -m m2rec.data prepare nyc --raw RAW --out {tmp_path}\n")

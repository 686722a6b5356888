"""scripts/reorder_ties.py: only the order inside runs of equal timestamps changes."""
import importlib.util
from pathlib import Path

import pytest

from m2rec.data import DataError

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("reorder_ties", ROOT / "scripts" / "reorder_ties.py")
reorder_ties = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reorder_ties)

HEADER = "user_id:token\titem_id:token\ttimestamp:float\n"
ROWS = ["u2\ti9\t5\n", "u1\ti1\t1\n", "u1\ti2\t3\n", "u1\ti3\t3\n", "u1\ti4\t3\n", "u1\ti5\t2\n", "u2\ti8\t5\n"]


def items(lines):
    return [(line.split("\t")[0], line.split("\t")[1]) for line in lines[1:]]


def test_reverse_flips_each_run_of_ties_and_nothing_else():
    out = reorder_ties.reorder([HEADER, *ROWS], "reverse")
    assert out[0] == HEADER
    assert items(out) == [("u1", "i1"), ("u1", "i5"), ("u1", "i4"), ("u1", "i3"), ("u1", "i2"),
                          ("u2", "i8"), ("u2", "i9")]


def test_shuffle_is_seeded_and_keeps_time_order():
    first = reorder_ties.reorder([HEADER, *ROWS], "shuffle", seed=3)
    assert first == reorder_ties.reorder([HEADER, *ROWS], "shuffle", seed=3)
    assert sorted(first[1:]) == sorted(ROWS)
    times = [(line.split("\t")[0], float(line.split("\t")[2])) for line in first[1:]]
    assert times == sorted(times)


def test_command_copies_the_other_files(tmp_path, capsys):
    (tmp_path / "src" / "toy").mkdir(parents=True)
    (tmp_path / "src" / "toy" / "toy.inter").write_text(HEADER + "".join(ROWS))
    (tmp_path / "src" / "toy" / "toy.item").write_text("item_id:token\ni1\n")
    assert reorder_ties.main([str(tmp_path / "src"), "toy", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "toy" / "toy.item").read_text() == "item_id:token\ni1\n"
    written = (tmp_path / "out" / "toy" / "toy.inter").read_text().splitlines(keepends=True)
    assert written == reorder_ties.reorder([HEADER, *ROWS], "reverse")
    # u1: test i4 -> i2, validation i3 both times; u2: test i8 -> i9, validation i9 -> i8
    assert capsys.readouterr().out.splitlines()[-1] == (
        "as RecBole 1.2.1 orders the two files (float32 times, not normalised), the test target differs for "
        "2 of 2 users and the validation target for 1")
    with pytest.raises(DataError, match="user_id and timestamp"):
        reorder_ties.reorder(["user_id:token\titem_id:token\n", "u1\ti1\n"], "reverse")


def test_ties_are_whole_seconds_written_without_their_fractions():
    # our rebuilt ML-1M keeps the published order of tied rows in fractions of a second; left in, they
    # would make RecBole's sort restore that order
    rows = ["u1\ti1\t7.000\n", "u1\ti2\t7.001\n", "u1\ti3\t7.002\n", "u1\ti4\t8.5\n"]
    out = reorder_ties.reorder([HEADER, *rows], "reverse")
    assert out[1:] == ["u1\ti3\t7\n", "u1\ti2\t7\n", "u1\ti1\t7.000\n", "u1\ti4\t8\n"]


def test_float32_ties_are_what_recbole_sorts_as_equal():
    # RecBole 1.2.1 sorts float32 timestamps: 978824291, ...330 and ...351 all become 978824320 (64 s
    # apart at this size), ...268 becomes 978824256; rows are written unchanged
    rows = ["u1\ti1\t978824268\n", "u1\ti2\t978824291\n", "u1\ti3\t978824330.001\n", "u1\ti4\t978824351\n"]
    out = reorder_ties.reorder([HEADER, *rows], "reverse", tie="float32")
    assert out[1:] == [rows[0], rows[3], rows[2], rows[1]]
    with pytest.raises(DataError, match="tie must be one of second, float32"):
        reorder_ties.reorder([HEADER, *rows], "reverse", tie="minute")


def test_items_order_is_one_item_ranking_shared_by_every_user():
    rows = [f"{user}\t{item}\t5\n" for user in ("u1", "u2") for item in ("i1", "i2", "i3", "i4", "i5")]
    rows += ["u3\ti5\t5\n", "u3\ti1\t6\n", "u3\ti2\t5\n"]  # i1 is later in time: stays last
    out = reorder_ties.reorder([HEADER, *rows], "items", seed=1)
    first, second, third = ([cells[1] for cells in (line.split("\t") for line in out[1:]) if cells[0] == user]
                            for user in ("u1", "u2", "u3"))
    assert first == second and sorted(first) == ["i1", "i2", "i3", "i4", "i5"]
    assert third == [item for item in first if item in ("i2", "i5")] + ["i1"]
    assert reorder_ties.reorder([HEADER, *rows], "items", seed=1) == out
    assert reorder_ties.reorder([HEADER, *rows], "items", seed=2) != out  # another ranking
    with pytest.raises(DataError, match="order must be one of reverse, shuffle, items"):
        reorder_ties.reorder([HEADER, *rows], "sorted")

"""Filters on integer-coded interactions: k-core to a fixed point, duplicates, top-N users, rows."""
from __future__ import annotations

import numpy as np
import pytest

from m2rec.data import DataError
from m2rec.data.filters import FilterConfig
from m2rec.data.interactions import InteractionTable
from m2rec.data.kcore import select


def _table(rows: list[tuple[str, str, float]]):
    table = InteractionTable()
    for user, item, time in rows:
        table.add(user, item, 5.0, time)
    return table.arrays()


def _pairs(data, rows) -> list[tuple[str, str]]:
    return [(data.user_ids[data.user[k]], data.item_ids[data.item[k]]) for k in rows]


def test_kcore_cascades_to_the_fixed_point():
    # 2-core. Round 1: u3 and u6 have one row each. Round 2: that leaves i3 (u1) and i2 (u2) with one
    # row each. Round 3: that leaves u1 and u2 with one row each (i1). Only u4/u5 x i4/i5 survives.
    rows = [("u1", "i1", 1), ("u1", "i3", 2), ("u2", "i1", 3), ("u2", "i2", 4), ("u3", "i3", 5),
            ("u4", "i4", 6), ("u4", "i5", 7), ("u5", "i4", 8), ("u5", "i5", 9), ("u6", "i2", 10)]
    data = _table(rows)
    selection = select(data, FilterConfig(user_core=2, item_core=2))
    assert _pairs(data, selection.rows) == [("u4", "i4"), ("u4", "i5"), ("u5", "i4"), ("u5", "i5")]
    assert selection.dropped == {"k-core": 6}
    assert selection.rounds == 3


def test_kcore_result_is_a_core_and_maximal_on_random_data():
    rng = np.random.default_rng(1)
    table = InteractionTable()
    for user, item in zip(rng.integers(0, 60, 900).tolist(), rng.integers(0, 40, 900).tolist()):
        table.add(f"u{user}", f"i{item}", 1.0, 0.0)
    data = table.arrays()
    rows = select(data, FilterConfig(user_core=12, item_core=14)).rows
    users, items = np.bincount(data.user[rows]), np.bincount(data.item[rows])
    assert users[users > 0].min() >= 12 and items[items > 0].min() >= 14
    # Peeling one user or item at a time (a different order) reaches the same set.
    keep = np.ones(len(data.user), dtype=bool)
    changed = True
    while changed:
        changed = False
        for codes, core in ((data.user, 12), (data.item, 14)):
            counts = np.bincount(codes[keep], minlength=codes.max() + 1)
            low = np.flatnonzero((counts > 0) & (counts < core))
            if len(low):
                keep &= codes != low[0]
                changed = True
    assert sorted(rows.tolist()) == np.flatnonzero(keep).tolist()


def test_rows_are_ordered_by_user_then_time_then_input_order():
    data = _table([("b", "x", 5), ("a", "x", 3), ("b", "y", 1), ("a", "y", 3), ("a", "z", 1)])
    rows = select(data, FilterConfig(user_core=1, item_core=1)).rows
    assert _pairs(data, rows) == [("b", "y"), ("b", "x"), ("a", "z"), ("a", "x"), ("a", "y")]


def test_duplicates_keep_the_first_row():
    data = _table([("a", "x", 1), ("a", "x", 1), ("a", "x", 2), ("b", "x", 1), ("a", "x", 1)])
    selection = select(data, FilterConfig(user_core=1, item_core=1, dedupe=True))
    assert sorted(selection.rows.tolist()) == [0, 2, 3]
    assert selection.dropped["duplicates"] == 2


def test_top_users_keeps_the_most_active_ties_by_first_appearance():
    data = _table([("a", "x", 1), ("b", "x", 1), ("b", "y", 2), ("c", "x", 1), ("c", "y", 2), ("d", "z", 1)])
    rows = select(data, FilterConfig(user_core=1, item_core=1, top_users=2)).rows
    assert {user for user, _ in _pairs(data, rows)} == {"b", "c"}


def test_row_predicate_rating_and_half_open_date_range():
    keep = FilterConfig(min_rating=4, since="2000-01-01", until="2000-01-02").row_predicate()
    day = 946684800.0  # 2000-01-01T00:00:00Z
    assert keep(4, day) and keep(5, day + 86399.5)
    assert not keep(3.5, day) and not keep(5, day - 1) and not keep(5, day + 86400)


@pytest.mark.parametrize("settings, message", [
    ({"user_core": 0}, "at least 1"),
    ({"top_users": 0}, "positive"),
    ({"since": "2001-01-01", "until": "2000-01-01"}, "not before"),
    ({"since": "01/02/2000"}, "YYYY-MM-DD"),
])
def test_bad_filter_settings_are_one_line_errors(settings, message):
    with pytest.raises(DataError, match=message) as error:
        FilterConfig(**settings).row_predicate()
    assert "\n" not in str(error.value)


def test_describe_names_every_active_filter():
    text = FilterConfig(min_rating=3, since="2019-01-01", top_users=100, dedupe=True).describe()
    assert text == ("rating >= 3, time in [2019-01-01, inf), no duplicate (user, item, time), top 100 users, "
                    "5-core users, 5-core items")


def test_file_order_keeps_each_users_rows_as_the_raw_file_lists_them():
    rows = [("u1", "i3", 30), ("u2", "i1", 5), ("u1", "i1", 10), ("u1", "i2", 20), ("u2", "i2", 1)]
    data = _table(rows)
    assert _pairs(data, select(data, FilterConfig(user_core=1, item_core=1)).rows) == [
        ("u1", "i1"), ("u1", "i2"), ("u1", "i3"), ("u2", "i2"), ("u2", "i1")]
    kept = FilterConfig(user_core=1, item_core=1, file_order=True)
    assert _pairs(data, select(data, kept).rows) == [
        ("u1", "i3"), ("u1", "i1"), ("u1", "i2"), ("u2", "i1"), ("u2", "i2")]
    assert kept.describe() == "1-core users, 1-core items, rows in the raw file's order"

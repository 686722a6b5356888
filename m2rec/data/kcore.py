"""The whole-table filters: exact duplicates, top-N users, and the k-core, on integer-coded rows.

All work is done with numpy on the code arrays of `interactions.Interactions`: temporary memory is a
few bytes per row (a boolean mask, one int32 copy, and for duplicates one sort order), never a
Python object per row.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from m2rec.data.filters import FilterConfig
from m2rec.data.interactions import Interactions


@dataclass
class Selection:
    """The rows that survive, ordered by (user code, timestamp, input order), or by (user code, input
    order) with `file_order`, and what each step removed (`dropped[step]` = rows)."""

    rows: np.ndarray
    rounds: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def drop_duplicates(data: Interactions, keep: np.ndarray) -> None:
    """Clear `keep` for every row that repeats an earlier kept row's (user, item, time)."""
    rows = np.flatnonzero(keep)
    order = rows[np.lexsort((data.time[rows], data.item[rows], data.user[rows]))]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = ((data.user[order[1:]] == data.user[order[:-1]])
                & (data.item[order[1:]] == data.item[order[:-1]])
                & (data.time[order[1:]] == data.time[order[:-1]]))
    keep[order[same]] = False


def keep_top_users(data: Interactions, keep: np.ndarray, top: int) -> None:
    """Clear `keep` for users outside the `top` by number of kept rows (ties: smaller code first)."""
    counts = np.bincount(data.user[keep], minlength=len(data.user_ids))
    codes = np.arange(len(counts))
    chosen = np.zeros(len(counts), dtype=bool)
    chosen[np.lexsort((codes, -counts))[:top]] = True
    keep &= chosen[data.user]


def kcore(data: Interactions, keep: np.ndarray, user_core: int, item_core: int) -> int:
    """Clear `keep` until every kept user has >= `user_core` and every kept item >= `item_core`
    kept rows; return the number of removal rounds.

    Each round removes, at once, the rows of every user and item below its threshold (as RecBole's
    `_filter_by_inter_num` does); the result is the unique largest sub-table with the property, so
    it equals RecBole's own filtering of the same rows.
    """
    rounds = 0
    while True:
        user_count = np.bincount(data.user[keep], minlength=len(data.user_ids))
        item_count = np.bincount(data.item[keep], minlength=len(data.item_ids))
        below = (user_count < user_core)[data.user] | (item_count < item_core)[data.item]
        below &= keep
        if not below.any():
            return rounds
        keep &= ~below
        rounds += 1


def select(data: Interactions, config: FilterConfig) -> Selection:
    """Apply duplicates, top-N users and the k-core of `config` (in that order) to all rows."""
    keep = np.ones(len(data.user), dtype=bool)
    dropped: dict[str, int] = {}
    kept = len(keep)
    if config.dedupe:
        drop_duplicates(data, keep)
        dropped["duplicates"], kept = kept - int(keep.sum()), int(keep.sum())
    if config.top_users is not None:
        keep_top_users(data, keep, config.top_users)
        dropped["outside top users"], kept = kept - int(keep.sum()), int(keep.sum())
    rounds = kcore(data, keep, config.user_core, config.item_core)
    dropped["k-core"] = kept - int(keep.sum())
    rows = np.flatnonzero(keep)
    if config.file_order:
        rows = rows[np.argsort(data.user[rows], kind="stable")]
    else:
        rows = rows[np.lexsort((data.time[rows], data.user[rows]))]
    return Selection(rows=rows, rounds=rounds, dropped=dropped)

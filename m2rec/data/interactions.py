"""Interactions held as integer-coded columns, so that memory grows by a few bytes per row.

A raw file's user and item ids are long strings (Google Local user ids have 21 digits); storing a
Python tuple of strings per row would take ~200 bytes a row. `InteractionTable` keeps each distinct
id once (a dict from id to code) and per row only four packed numbers: user code (4 bytes), item
code (4), rating (4) and timestamp (8) = 20 bytes a row, in `array` buffers that numpy reads without
copying.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np


@dataclass
class Interactions:
    """Numpy views of an `InteractionTable`: row i is (user[i], item[i], rating[i], time[i]);
    `user_ids[code]` / `item_ids[code]` give the raw id of a code."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    time: np.ndarray
    user_ids: list[str]
    item_ids: list[str]


class InteractionTable:
    """Append-only table of (user, item, rating, timestamp) rows with codes in first-seen order."""

    def __init__(self) -> None:
        self.users: dict[str, int] = {}
        self.items: dict[str, int] = {}
        self._user = array("i")
        self._item = array("i")
        self._rating = array("f")
        self._time = array("d")

    def __len__(self) -> int:
        return len(self._user)

    def add(self, user: str, item: str, rating: float, timestamp: float) -> None:
        """Append one row; `timestamp` is in seconds."""
        self._user.append(self.users.setdefault(user, len(self.users)))
        self._item.append(self.items.setdefault(item, len(self.items)))
        self._rating.append(rating)
        self._time.append(timestamp)

    def arrays(self) -> Interactions:
        """The rows as numpy arrays sharing this table's memory (no copy)."""
        return Interactions(
            user=np.frombuffer(self._user, dtype=np.int32),
            item=np.frombuffer(self._item, dtype=np.int32),
            rating=np.frombuffer(self._rating, dtype=np.float32),
            time=np.frombuffer(self._time, dtype=np.float64),
            user_ids=list(self.users),
            item_ids=list(self.items),
        )

"""RecBole atomic files: the `.inter` / `.item` layout, cell formatting and writing.

Layout (RecBole's): ``<name>.inter`` has the header
``user_id:token<TAB>item_id:token<TAB>rating:float<TAB>timestamp:float`` and one row per
interaction, grouped by user in first-seen order and sorted by time within a user (ties keep the
raw file's order). ``<name>.item`` has ``item_id:token`` then the dataset's text columns, one row per
item of the ``.inter`` file, in the order of their first appearance in the raw file.

Cells never contain a tab or a line break (every whitespace run becomes one space) nor a double
quote (it becomes a single quote): RecBole reads these files with pandas' CSV parser, for which a
cell that starts with ``"`` swallows the tabs and lines after it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from m2rec.data.interactions import Interactions

INTER_HEADER = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")
ITEM_ID = "item_id:token"
ROWS_PER_WRITE = 65536


def clean(value: Any) -> str:
    """A text cell: "" for None, whitespace runs as one space, double quotes as single quotes."""
    if value is None:
        return ""
    return " ".join(str(value).replace('"', "'").split())


def tokens(values: Iterable[Any]) -> str:
    """A token_seq cell of names that may contain spaces (e.g. categories "Nail Polish", "Pizza
    restaurant"): each name's spaces become ``_``; repeated names are kept once, in order."""
    names = (clean(value).replace(" ", "_") for value in values)
    return " ".join(dict.fromkeys(name for name in names if name))


def identifier(value: Any) -> Optional[str]:
    """`value` as a user/item id token, or None when it is missing, empty or not a single token."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value)
    if not text or text.split() != [text] or '"' in text:
        return None
    return text


def number(value: float) -> str:
    """A float cell: integers without decimals (``978300760``), else up to 3 decimals (``4.5``,
    ``1566331951.619``: Google Local times are milliseconds)."""
    text = f"{value:.3f}".rstrip("0")
    return text[:-1] if text.endswith(".") else text


def write_inter(path: Path, data: Interactions, rows: np.ndarray) -> None:
    """Write `rows` (indices into `data`, already in output order) as a `.inter` file."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\t".join(INTER_HEADER) + "\n")
        for start in range(0, len(rows), ROWS_PER_WRITE):
            chunk = rows[start:start + ROWS_PER_WRITE]
            out.writelines(
                f"{data.user_ids[user]}\t{data.item_ids[item]}\t{number(rating)}\t{number(time)}\n"
                for user, item, rating, time in zip(data.user[chunk].tolist(), data.item[chunk].tolist(),
                                                    data.rating[chunk].tolist(), data.time[chunk].tolist()))


def write_item(path: Path, columns: Sequence[str], item_ids: Sequence[str],
               texts: Mapping[str, Sequence[str]]) -> None:
    """Write one `.item` row per id in `item_ids`; ids without text get empty cells."""
    empty = ("",) * len(columns)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\t".join((ITEM_ID, *columns)) + "\n")
        out.writelines("\t".join((item, *texts.get(item, empty))) + "\n" for item in item_ids)

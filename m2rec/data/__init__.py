"""The paper's datasets as RecBole atomic files: conversion from the public raw files, download.

Command line (see docs/datasets.md)::

    python -m m2rec.data prepare NAME --raw PATH --out DIR   # raw files -> DIR/NAME/NAME.{inter,item}
    python -m m2rec.data fetch NAME [--data-path DIR]         # download + prepare (ensure_dataset)
    python -m m2rec.data stats DIR NAME                       # statistics beside Table III

Names: ml-1m, amazon-beauty, nyc, california, texas. In Python, `ensure_dataset` returns a dataset
folder, downloading and converting it when it is missing. Importing this package is cheap: numpy,
tqdm and the converters load only when a dataset is prepared, and nothing is downloaded on import.

Data path: the runner uses ``data_path`` from the config or command line, else `default_data_path()`
(the ``M2REC_DATA_PATH`` environment variable, else ``dataset/``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from m2rec.data.errors import DataError, DownloadError
from m2rec.data.filters import FilterConfig
from m2rec.data.registry import DATASETS

__all__ = ["DATASETS", "DataError", "DownloadError", "FilterConfig", "default_data_path", "ensure_dataset"]

DATA_PATH_VARIABLE = "M2REC_DATA_PATH"
MIRROR_VARIABLE = "M2REC_MIRROR"
DEFAULT_DATA_PATH = "dataset/"


def default_data_path() -> str:
    """The data path when none is configured: ``$M2REC_DATA_PATH`` if set and not empty, else ``dataset/``."""
    return os.environ.get(DATA_PATH_VARIABLE) or DEFAULT_DATA_PATH


def ensure_dataset(name: str, data_path: Union[str, Path], *, show_progress: bool = True,
                   mirror: Optional[str] = None, filters: Optional[FilterConfig] = None) -> Path:
    """The folder ``<data_path>/<name>`` holding ``<name>.inter``, creating it if needed.

    If ``<name>.inter`` is there, nothing else happens. Otherwise, for a known `name`, the raw files
    are downloaded into ``<data_path>/raw/`` (kept there as a cache; resumable; checked), converted
    with the dataset's default filters (or `filters`) and written atomically. `mirror` (default:
    ``$M2REC_MIRROR``) is a folder URL that serves the raw files under their published names; it
    replaces the publishers' URLs. Raises FileNotFoundError (unknown name) or `DownloadError`
    (offline, refused, damaged), each one line naming the URL and the manual command.
    """
    data_path = Path(data_path)
    folder = data_path / name
    if (folder / f"{name}.inter").is_file():
        return folder
    if name not in DATASETS:
        raise FileNotFoundError(f"no {name}.inter in {folder} and {name!r} is not a dataset that can be "
                                f"downloaded ({', '.join(DATASETS)}); set data_path (or {DATA_PATH_VARIABLE}) "
                                f"to the folder that holds {name}/{name}.inter")
    from m2rec.data.convert import prepare
    from m2rec.data.download import fetch

    spec = DATASETS[name]
    mirror = mirror or os.environ.get(MIRROR_VARIABLE) or None
    raw = data_path / "raw"
    for file in spec.raw_files:
        advice = (f"download {file.url(mirror)} by hand into {raw}/ and run: "
                  f"python -m m2rec.data prepare {name} --raw {raw} --out {data_path}")
        fetch(file.url(mirror), raw / file.name, md5_url=file.md5_url(mirror), show_progress=show_progress,
              advice=advice)
    report = prepare(name, raw, data_path, filters=filters, show_progress=show_progress)
    if show_progress:
        print("\n".join(report.lines))
    return report.folder

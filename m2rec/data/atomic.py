"""Atomic output: a dataset folder either holds a complete new `<name>.inter` or none at all.

Files are written into a hidden staging folder next to the target (same file system), flushed to
disk, then moved in with `os.replace`, the `.inter` file last. A loader (RecBole, `ensure_dataset`)
only treats `<out>/<name>/<name>.inter` as a dataset, so an interrupted run (exception, Ctrl-C, or a
killed process) never leaves something that a later run would load: before the move there is no new
`.inter`; when an old dataset is replaced, its `.inter` is removed before the other files move in.
Staging folders of runs that died (their process id is gone) are removed by the next run.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from m2rec.data.errors import DataError


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_stages(out: Path, name: str) -> None:
    """Delete `.<name>.partial-<pid>-*` folders in `out` whose process no longer runs."""
    for stage in out.glob(f".{name}.partial-*"):
        pid = stage.name[len(f".{name}.partial-"):].split("-", 1)[0]
        if stage.is_dir() and pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(stage, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_target(out: Path, name: str, force: bool) -> Path:
    """The dataset folder `<out>/<name>`; a one-line error if it already holds a dataset and not `force`."""
    folder = out / name
    inter = folder / f"{name}.inter"
    if inter.exists() and not force:
        raise DataError(f"{inter} already exists; pass --force to replace it, or choose another --out")
    return folder


@contextlib.contextmanager
def staged_dataset(out: Path, name: str, force: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder; on normal exit move its files into `<out>/<name>/` (the
    `.inter` last), on any exception delete it and leave `<out>/<name>/` as it was."""
    folder = check_target(out, name, force)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(out, name)
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.partial-{os.getpid()}-", dir=out))
    try:
        yield stage
        files = sorted(stage.iterdir(), key=lambda path: (path.suffix == ".inter", path.name))
        for path in files:
            _fsync(path)
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.inter").unlink(missing_ok=True)
        for path in files:
            os.replace(path, folder / path.name)
        _fsync(folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)

"""Atomic writing: an interrupted conversion leaves no dataset that a later run would load."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from m2rec.data import DataError, recbole_files
from m2rec.data.atomic import staged_dataset
from m2rec.data.convert import prepare
from m2rec.data.filters import FilterConfig

ONE_CORE = FilterConfig(user_core=1, item_core=1)


def _archive(path, ratings: bytes):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ml-1m/ratings.dat", ratings)
        archive.writestr("ml-1m/movies.dat", b"1::Toy Story (1995)::Animation\n2::Heat (1995)::Action\n")
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_failure_while_writing_leaves_no_inter(tmp_path, monkeypatch):
    archive = _archive(tmp_path / "ml-1m.zip", b"1::1::5::10\n1::2::4::20\n")

    def fail_midway(path, columns, item_ids, texts):
        path.write_text("item_id:token\tmovie_title:token_seq\n1\tToy")
        raise KeyboardInterrupt

    monkeypatch.setattr("m2rec.data.convert.write_item", fail_midway)
    with pytest.raises(KeyboardInterrupt):
        prepare("ml-1m", archive, tmp_path / "out", filters=ONE_CORE, show_progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_replacing_a_dataset_is_all_or_nothing(tmp_path, monkeypatch):
    prepare("ml-1m", _archive(tmp_path / "old.zip", b"1::1::5::10\n"), tmp_path / "out", filters=ONE_CORE,
            show_progress=False)
    folder = tmp_path / "out" / "ml-1m"
    (folder / "notes.txt").write_text("kept")
    with pytest.raises(DataError, match=r"ml-1m.inter already exists; pass --force to replace it"):
        prepare("ml-1m", _archive(tmp_path / "new.zip", b"2::2::3::30\n"), tmp_path / "out", filters=ONE_CORE,
                show_progress=False)

    def fail_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError):
        prepare("ml-1m", tmp_path / "new.zip", tmp_path / "out", filters=ONE_CORE, force=True, show_progress=False)
    assert not (folder / "ml-1m.inter").exists()
    monkeypatch.undo()
    prepare("ml-1m", tmp_path / "new.zip", tmp_path / "out", filters=ONE_CORE, force=True, show_progress=False)
    assert (folder / "ml-1m.inter").read_text().splitlines()[1:] == ["2\t2\t3\t30"]
    assert (folder / "ml-1m.item").read_text().splitlines()[1:] == ["2\tHeat\t1995\tAction"]
    assert (folder / "notes.txt").read_text() == "kept"
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["ml-1m"]


def test_stages_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / f".ml-1m.partial-{_dead_pid()}-abc"
    alive = tmp_path / f".ml-1m.partial-{os.getpid()}-def"
    for stage in (dead, alive):
        stage.mkdir()
        (stage / "ml-1m.inter").write_text("half")
    with staged_dataset(tmp_path, "ml-1m") as stage:
        (stage / "ml-1m.inter").write_text("user_id:token\titem_id:token\n")
    assert not dead.exists() and alive.exists()
    assert (tmp_path / "ml-1m" / "ml-1m.inter").read_text() == "user_id:token\titem_id:token\n"


def test_killed_run_leaves_only_a_hidden_stage(tmp_path):
    pid = os.fork()
    if pid == 0:
        try:
            with staged_dataset(tmp_path, "nyc") as stage:
                (stage / "nyc.item").write_text("item_id:token")
                (stage / "nyc.inter").write_text("user_id:token")
                os._exit(9)
        finally:
            os._exit(1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 9
    assert not (tmp_path / "nyc").exists()
    assert [path.name.startswith(".nyc.partial-") for path in tmp_path.iterdir()] == [True]


def test_text_cells_are_safe_for_recbole():
    assert recbole_files.clean(' "Great  Performances"\tCats\n(1998) ') == "'Great Performances' Cats (1998)"
    assert recbole_files.tokens(["Nail Polish", "", None, "Nail Polish", "Skin\tCare"]) == "Nail_Polish Skin_Care"
    assert [recbole_files.identifier(value) for value in ("A1", 7, "", "a b", True, None, '"x')] == [
        "A1", "7", None, None, None, None, None]
    assert [recbole_files.number(value) for value in (5.0, 4.5, 978300760.0, 1566331951.619, 0.0)] == [
        "5", "4.5", "978300760", "1566331951.619", "0"]

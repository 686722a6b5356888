"""RecBole 1.2.1 on today's packages: every workaround, in one place.

`apply()` runs once, when `m2rec` is imported, before any RecBole module is used. Each fix below
names the failure it prevents; `tests/test_compat.py` checks each one.

1. numpy 2 removed `np.float_`, `np.complex_`, `np.unicode_`, `np.bool8`; RecBole's Config aliases
   `np.float = np.float_` (and more) and its metrics use `np.float`. We restore all of them, so that
   evaluating an unpickled checkpoint's Config works too.
2. pandas 3 breaks `Dataset._remap` and `fillna(inplace=True)`: pinned in pyproject.toml, and
   `check_versions` fails early with a one-line fix instead of a traceback deep inside RecBole.
   setuptools 81 dropped `pkg_resources`, which ray needs; RecBole imports ray only in
   `recbole.quick_start`, which m2rec never imports, so setuptools<81 is pinned for users of RecBole's
   own quick start and not checked here.
3. torch >= 2.6 loads with `weights_only=True`, so RecBole's reload of its own best checkpoint (a
   pickled dict holding its Config) fails. We let RecBole's trainer load with `weights_only=False`
   only the files that this process saved through that same trainer; any other file keeps torch's
   safe default.
4. `recbole/model/sequential_recommender/sine.py` turns on autograd anomaly detection for the whole
   process when imported (~1.6x slower training). We import RecBole's sequential models once and
   switch it back off.
5. RecBole's `ensure_dir` checks, then creates: two runs started at once in one folder race on
   `./log` (seen on the GPU machine: FileExistsError). We make it `os.makedirs(exist_ok=True)` in
   every RecBole module that imported it.
6. RecBole's Config sets `data_path` to its bundled copy whenever the dataset is `ml-100k`, silently
   dropping a `data_path` the user gave. Where that path holds `ml-100k/ml-100k.inter` we use it, as
   for every other dataset; otherwise (no data_path, or one that is for other datasets, e.g. from
   M2REC_DATA_PATH) the bundled copy, as before.
7. RecBole turns a float field into a float32 tensor before it sorts by it, and float32 rounds Unix
   times of 1987-2004 to multiples of 64 s (later ones to 128 s): within such a window, each user's
   interactions stay in the file's order, not in time order (RecBole issues #1653, #2204). Files that
   m2rec prepares are in time order, so that order survives; GroupLens' ML-1M as RecBole distributes
   it is not (half of its users get another test target, docs/results.md). With `exact_time_order:
   True` (configs/overall.yaml) we sort the interactions by user and float64 time just before that
   conversion, so RecBole's later stable sorts keep the exact order; False (and any Config that lacks
   the key) keeps RecBole's.
"""
from __future__ import annotations

import os
import types
from importlib import metadata

import numpy as np
import pandas as pd
import torch

# numpy 2 names RecBole needs: the `_`-suffixed ones, and those Config.compatibility_settings() sets
# from them (a Config unpickled from a checkpoint never runs that method).
NUMPY_ALIASES = {"float_": "float64", "complex_": "complex128", "unicode_": "str_", "bool8": "bool_",
                 "bool": "bool_", "int": "int_", "float": "float64", "complex": "complex128",
                 "object": "object_", "str": "str_", "long": "int_", "unicode": "str_"}


def check_versions(pandas_version: str) -> None:
    """Raise one readable error when an installed package is known to break RecBole 1.2.1."""
    if int(pandas_version.split(".")[0]) >= 3:
        raise ImportError(f"pandas {pandas_version} breaks RecBole 1.2.1's dataset loading; "
                          "run: pip install 'pandas<3'")


def restore_numpy_aliases() -> None:
    for alias, target in NUMPY_ALIASES.items():
        if alias not in np.__dict__:
            setattr(np, alias, getattr(np, target))


class _TrainerTorch(types.ModuleType):
    """Stands in for `torch` inside `recbole.trainer.trainer`: identical, except that `save`
    remembers the paths it wrote and `load` trusts (weights_only=False) exactly those paths."""

    def __init__(self):
        super().__init__("torch")
        self.written: set[str] = set()

    def __getattr__(self, name):
        return getattr(torch, name)

    def save(self, obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)):
            self.written.add(os.path.realpath(f))
        return torch.save(obj, f, *args, **kwargs)

    def load(self, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)) and os.path.realpath(f) in self.written:
            kwargs.setdefault("weights_only", False)
        return torch.load(f, *args, **kwargs)


def trust_checkpoint(path: str | os.PathLike) -> None:
    """Let RecBole's Trainer reload `path` although this process did not write it: a DDP job's rank 0
    writes the checkpoint that every rank reloads (m2rec.runner names it for all of them)."""
    _patch_trainer_checkpoints()
    from recbole.trainer import trainer as trainer_module

    trainer_module.torch.written.add(os.path.realpath(path))


def _patch_trainer_checkpoints() -> None:
    from recbole.trainer import trainer as trainer_module

    if not isinstance(trainer_module.torch, _TrainerTorch):
        trainer_module.torch = _TrainerTorch()


def _switch_off_sine_anomaly_mode() -> None:
    import recbole.model.sequential_recommender  # noqa: F401  (imports sine.py, which switches it on)

    torch.autograd.set_detect_anomaly(False)


def ensure_dir(dir_path: str) -> None:
    os.makedirs(dir_path, exist_ok=True)


ENSURE_DIR_USERS = ("recbole.utils", "recbole.utils.utils", "recbole.utils.logger", "recbole.trainer.trainer",
                    "recbole.data.utils", "recbole.data.dataset.dataset")


def _patch_ensure_dir() -> None:
    import sys

    import recbole.data.dataset.dataset  # noqa: F401  (with the trainer: every user of ensure_dir we run)
    import recbole.trainer.trainer  # noqa: F401

    for name in ENSURE_DIR_USERS:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "ensure_dir"):
            module.ensure_dir = ensure_dir


def _patch_ml100k_data_path() -> None:
    from recbole.config import configurator

    bundled = configurator.Config._set_default_parameters

    def set_default_parameters(self) -> None:
        bundled(self)
        given = self.external_config_dict.get("data_path")
        if self.dataset == "ml-100k" and given and os.path.isfile(os.path.join(given, "ml-100k", "ml-100k.inter")):
            self.final_config_dict["data_path"] = os.path.join(given, self.dataset)

    configurator.Config._set_default_parameters = set_default_parameters


def _patch_exact_time_order() -> None:
    from recbole.data.dataset import dataset as dataset_module

    convert = dataset_module.Dataset._change_feat_format
    if getattr(convert, "exact_time_order", False):
        return

    def change_feat_format(self) -> None:
        frame = self.inter_feat
        if (self.config["exact_time_order"] and isinstance(frame, pd.DataFrame)
                and {self.uid_field, self.time_field} <= set(frame.columns)):
            frame.sort_values([self.uid_field, self.time_field], kind="stable", inplace=True, ignore_index=True)
        convert(self)

    change_feat_format.exact_time_order = True
    dataset_module.Dataset._change_feat_format = change_feat_format


def apply() -> None:
    check_versions(metadata.version("pandas"))
    restore_numpy_aliases()
    _switch_off_sine_anomaly_mode()
    _patch_trainer_checkpoints()
    _patch_ensure_dir()
    _patch_ml100k_data_path()
    _patch_exact_time_order()

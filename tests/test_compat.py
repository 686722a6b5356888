"""RecBole 1.2.1 on today's stack: each workaround of m2rec.compat does what it says."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import m2rec  # noqa: F401
from m2rec import compat


def test_numpy_aliases_exist():
    for alias, target in compat.NUMPY_ALIASES.items():
        assert getattr(np, alias) is getattr(np, target)


def test_sine_anomaly_mode_is_off_after_import():
    import recbole.model.sequential_recommender.sine  # noqa: F401  (switches anomaly mode on at import)

    assert not torch.is_anomaly_enabled()


def test_pandas_3_is_refused_with_the_fix():
    with pytest.raises(ImportError, match=r"pip install 'pandas<3'"):
        compat.check_versions("3.0.0")
    compat.check_versions("2.3.3")


def test_pipeline_never_imports_ray():
    """ray (RecBole's quick_start only) needs setuptools<81's pkg_resources; our path avoids it."""
    code = ("import sys, m2rec.runner, recbole.data, recbole.trainer, recbole.utils; "
            "print('ray' in sys.modules, 'recbole.quick_start' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


class Pickled:
    """Stands for RecBole's Config inside a checkpoint: not loadable with weights_only=True."""


def test_trainer_loads_its_own_checkpoints_only(tmp_path):
    from recbole.trainer import trainer as trainer_module

    proxy = trainer_module.torch
    assert isinstance(proxy, compat._TrainerTorch)
    own = tmp_path / "own.pth"
    proxy.save({"config": Pickled(), "state_dict": {"w": torch.ones(2)}}, str(own))
    assert isinstance(proxy.load(str(own), map_location="cpu")["config"], Pickled)
    foreign = tmp_path / "foreign.pth"
    torch.save({"config": Pickled()}, foreign)
    with pytest.raises(Exception, match="weights_only"):
        proxy.load(str(foreign), map_location="cpu")
    assert proxy.device is torch.device and proxy.nn is torch.nn


def test_ensure_dir_is_race_free_in_every_recbole_module_that_uses_it(tmp_path):
    import importlib

    for name in compat.ENSURE_DIR_USERS:
        assert importlib.import_module(name).ensure_dir is compat.ensure_dir, name
    target = tmp_path / "log"
    target.mkdir()
    compat.ensure_dir(str(target))  # a directory another run created between RecBole's check and mkdir
    compat.ensure_dir(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()


def test_a_given_data_path_is_kept_for_ml_100k(tmp_path):
    from m2rec.runner import make_config

    def data_path(dataset, **overrides):
        return make_config("Mamba4Rec", dataset, overrides=overrides)["data_path"].replace("\\", "/")

    bundled = data_path("ml-100k")
    assert bundled.endswith("dataset_example/ml-100k")
    assert data_path("ml-100k", data_path=str(tmp_path)) == bundled  # a data path without ML-100K in it
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "ml-100k.inter").write_text("user_id:token\titem_id:token\n")
    assert data_path("ml-100k", data_path=str(tmp_path)) == (tmp_path / "ml-100k").as_posix()
    assert data_path("ml-1m", data_path=str(tmp_path)) == (tmp_path / "ml-1m").as_posix()


@pytest.mark.parametrize("exact, last_two", [(True, ["i4", "i3"]), (False, ["i3", "i4"])])
def test_exact_time_order_survives_recboles_float32_times(tmp_path, exact, last_two):
    # i3 (978824351) and i4 (978824291) are both 978824320 in float32; the file lists i3 first
    from recbole.data import create_dataset, data_preparation

    from m2rec.runner import make_config

    rows = [("i1", 978800000), ("i2", 978810000), ("i3", 978824351), ("i4", 978824291)]
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\n" + "".join(
        f"{user}\t{item}\t{time}\n" for user in ("u1", "u2") for item, time in rows))
    config = make_config("SASRec", "toy", overrides={
        "data_path": str(tmp_path), "exact_time_order": exact, "user_inter_num_interval": "[0,inf)",
        "item_inter_num_interval": "[0,inf)", "show_progress": False, "MAX_ITEM_LIST_LENGTH": 5})
    dataset = create_dataset(config)
    _, valid, test = data_preparation(config, dataset)
    tokens = dataset.field2id_token["item_id"]
    assert [tokens[int(test.dataset.inter_feat["item_id"][0])], tokens[int(valid.dataset.inter_feat["item_id"][0])]] \
        == [last_two[1], last_two[0]]
    assert [tokens[i] for i in test.dataset.inter_feat["item_id_list"][0][:3].tolist()] == ["i1", "i2", last_two[0]]

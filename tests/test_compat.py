"""RecBole 1.2.1 on today's stack: each workaround of m2rec.compat does what it says."""
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


@pytest.mark.parametrize("pandas_version,setuptools_version,message", [
    ("3.0.0", "80.9.0", "pip install 'pandas<3'"),
    ("2.3.3", "81.0.0", "pip install 'setuptools<81'"),
])
def test_version_check_names_the_fix(pandas_version, setuptools_version, message):
    with pytest.raises(ImportError, match=message.replace("(", r"\(")):
        compat.check_versions(pandas_version, setuptools_version)
    compat.check_versions("2.3.3", "80.9.0")
    compat.check_versions("2.3.3", None)


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

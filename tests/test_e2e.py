"""End to end through RecBole's Trainer on the tiny dataset: train, evaluate, reload, reproduce."""
import json
import subprocess
import sys
from pathlib import Path

import torch
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_trainer

from m2rec.model import M2Rec
from m2rec.runner import make_config, run

ROOT = Path(__file__).resolve().parents[1]


def test_train_evaluate_reload_and_same_seed_same_metrics(tiny_overrides, tmp_path):
    overrides = {**tiny_overrides, "epochs": 3, "checkpoint_dir": str(tmp_path)}
    first = run(make_config("M2Rec", "tiny", overrides=overrides))
    metrics = first["test_result"]
    assert set(metrics) == {"hit@10", "ndcg@10", "mrr@10"}
    assert metrics["hit@10"] > 10 / 60 * 1.5  # well above chance (10 of 60 items) on a learnable pattern
    assert 0 < metrics["mrr@10"] <= metrics["ndcg@10"] <= metrics["hit@10"] <= 1

    trainer = first["trainer"]
    checkpoint = torch.load(trainer.saved_model_file, map_location="cpu", weights_only=False)
    assert checkpoint["state_dict"].keys() == first["model"].state_dict().keys()
    config = make_config("M2Rec", "tiny", overrides=overrides)
    _, _, test_data = data_preparation(config, create_dataset(config))
    fresh = get_trainer(config["MODEL_TYPE"], "M2Rec")(config, M2Rec(config, test_data._dataset))
    reloaded = fresh.evaluate(test_data, load_best_model=True, model_file=trainer.saved_model_file)
    assert dict(reloaded) == dict(metrics)

    script = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate_checkpoint.py"), trainer.saved_model_file],
                            capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(script.stdout.splitlines()[-1])["test"] == dict(metrics)

    second = run(make_config("M2Rec", "tiny", overrides=overrides))
    assert dict(second["test_result"]) == dict(metrics)
    assert second["best_valid_score"] == first["best_valid_score"]


def test_epoch_snapshots(tiny_overrides, tmp_path):
    result = run(make_config("M2Rec", "tiny", overrides={**tiny_overrides, "epochs": 2, "fusion": "none",
                                                          "checkpoint_dir": str(tmp_path), "save_epoch_snapshots": True}))
    folder = Path(result["trainer"].saved_model_file).with_suffix(".epochs")
    snapshots = sorted(p.name for p in folder.iterdir())
    assert snapshots == ["epoch000.pth", "epoch001.pth"]
    last = torch.load(folder / "epoch001.pth", map_location="cpu", weights_only=False)
    assert last["epoch"] == 1 and last["state_dict"].keys() == result["model"].state_dict().keys()

"""The command line: both --dataset spellings, --config files, typed overrides, unknown options."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from m2rec.runner import UsageError, config_files, distributed_overrides, known_keys, main, make_config, parse_overrides

ROOT = Path(__file__).resolve().parents[1]


def test_overrides_are_typed_and_checked():
    allowed = known_keys(config_files("M2Rec", "ml-100k", []))
    assert {"cut_ratio", "fusion", "learning_rate", "MAX_ITEM_LIST_LENGTH", "n_heads"} <= allowed
    parsed = parse_overrides(["--cut_ratio=0.3", "--fusion", "concat", "--text_fields=[title, genre]",
                              "--filter_adaptive=False", "--text_cache=~"], allowed)
    assert parsed == {"cut_ratio": 0.3, "fusion": "concat", "text_fields": ["title", "genre"],
                      "filter_adaptive": False, "text_cache": None}
    with pytest.raises(UsageError, match="unknown option --cut_ration; did you mean --cut_ratio"):
        parse_overrides(["--cut_ration=0.3"], allowed)
    with pytest.raises(UsageError, match="needs a value"):
        parse_overrides(["--cut_ratio"], allowed)
    with pytest.raises(UsageError, match="unexpected argument"):
        parse_overrides(["ml-1m"], allowed)


def test_config_layers_later_files_win(tmp_path, tiny_overrides):
    user = tmp_path / "mine.yaml"
    user.write_text("cut_ratio: 0.7\nlearning_rate: 0.005\n", encoding="utf-8")
    config = make_config("M2Rec", "tiny", [str(user)], {**tiny_overrides, "learning_rate": 0.002})
    assert config["cut_ratio"] == 0.7  # user file over configs/model/M2Rec.yaml
    assert config["learning_rate"] == 0.002  # --key=value over every file
    assert config["valid_metric"] == "NDCG@10" and config["eval_args"]["split"] == {"LS": "valid_and_test"}
    bpr = make_config("M2Rec", "tiny", overrides={**tiny_overrides, "loss_type": "BPR"})
    assert bpr["train_neg_sample_args"]["distribution"] == "uniform"


def _run(args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "run_mm.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_unknown_option_is_an_error(tmp_path):
    result = _run(["--dataset", "ml-100k", "--learnig_rate=0.1"], tmp_path)
    assert result.returncode == 2
    assert "unknown option --learnig_rate; did you mean --learning_rate?" in result.stderr
    assert _run(["--model", "NoSuchRec"], tmp_path).returncode == 2


@pytest.mark.parametrize("spelling", [["--dataset", "tiny"], ["--dataset=tiny"]])
def test_both_dataset_spellings_train_and_evaluate(tmp_path, tiny_overrides, spelling):
    overrides = {**tiny_overrides, "epochs": 1, "fusion": "none", "checkpoint_dir": str(tmp_path / "saved")}
    args = [*spelling, *(f"--{k}={v}" for k, v in overrides.items() if k != "text_fields")]
    result = _run(args, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test result: hit@10=" in result.stdout
    assert "tiny" in result.stderr + result.stdout
    assert list((tmp_path / "saved").glob("M2Rec-*.pth"))


def test_main_rejects_missing_config_file(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", "does-not-exist.yaml"])
    assert exit_info.value.code == 2
    assert "--config does-not-exist.yaml: no such file" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.device_count() >= 2, reason="checks the error of a machine with fewer than 2 GPUs")
def test_nproc_beyond_the_gpus_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit):
        main(["--nproc", "2", "--epochs=1"])
    assert f"--nproc 2 needs 2 GPUs; this machine has {torch.cuda.device_count()}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--nproc=0"])
    assert "--nproc must be at least 1, got 0" in capsys.readouterr().err


def test_distributed_overrides_name_every_gpu_and_keep_the_users_port(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    rank1 = distributed_overrides({"epochs": 3, "port": 6000}, rank=1, nproc=2)
    assert rank1 == {"gpu_id": "0,1", "epochs": 3, "port": "6000", "local_rank": 1, "nproc": 2, "world_size": 2,
                     "offset": 0, "ip": "localhost"}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert distributed_overrides({}, rank=0, nproc=2)["gpu_id"] == "2,3"  # RecBole re-sets CUDA_VISIBLE_DEVICES from it
    assert distributed_overrides({"gpu_id": "1,2"}, rank=0, nproc=2)["port"] == "5678"


def test_cuda_visible_devices_is_kept(monkeypatch, tiny_overrides):
    """RecBole sets CUDA_VISIBLE_DEVICES from gpu_id (default "0"): `CUDA_VISIBLE_DEVICES=2 python run_mm.py`
    would silently train on GPU 0, and CUDA_VISIBLE_DEVICES= would not hide the GPUs."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    assert make_config("SASRec", "tiny", overrides=tiny_overrides)["gpu_id"] == "2"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "2"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    config = make_config("SASRec", "tiny", overrides=tiny_overrides)
    assert config["gpu_id"] == "" and config["device"].type == "cpu" and os.environ["CUDA_VISIBLE_DEVICES"] == ""
    assert make_config("SASRec", "tiny", overrides={**tiny_overrides, "gpu_id": "1"})["gpu_id"] == "1"


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs (RecBole's DDP runs on NCCL only)")
def test_nproc_2_trains_and_evaluates_on_two_gpus(tiny_overrides, capfd):  # capfd: rank 0 prints
    options = [f"--{key}={value}" for key, value in tiny_overrides.items() if key != "text_fields"]
    assert main(["--model", "Mamba4Rec", "--dataset", "tiny", "--nproc", "2", *options]) == 0
    assert "test result: hit@10=" in capfd.readouterr().out

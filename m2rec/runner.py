"""Command line and pipeline: RecBole's Config -> dataset -> Trainer -> evaluation, for any model.

    python run_mm.py                                   # M2Rec on ML-100K (offline default)
    python run_mm.py --dataset ml-1m                   # or --dataset=ml-1m
    python run_mm.py --model SASRec --dataset ml-1m --config my.yaml --learning_rate=0.002
    python run_mm.py --dataset ml-1m --nproc 2            # RecBole's DDP, one process per GPU (NCCL)

Config files, later ones winning: configs/overall.yaml (the protocol), configs/model/<model>.yaml,
configs/dataset/<dataset>.yaml, each --config FILE, then --key=value overrides. An override must
name a key that RecBole or one of these files knows; anything else is an error, not a warning.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import importlib.util
import os
import sys
from logging import getLogger
from pathlib import Path

import recbole
import torch
import yaml
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_local_time, get_trainer, init_logger, init_seed, set_color

from m2rec.compat import trust_checkpoint
from m2rec.data import DataError, ensure_dataset
from m2rec.loader import device_batches
from m2rec.registry import MODELS
from m2rec.text import TextCacheMismatch

DEFAULT_MODEL = "M2Rec"
DEFAULT_DATASET = "ml-100k"
# Keys RecBole reads that no YAML file of RecBole's or ours lists.
RECBOLE_FAMILIES = ("sequential_recommender", "general_recommender", "context_aware_recommender",
                    "knowledge_aware_recommender")
EXTRA_KEYS = {"world_size", "offset", "ip", "port", "config_files", "local_rank", "single_spec"}
DISTRIBUTED_KEYS = ("local_rank", "nproc", "world_size", "offset", "ip", "port")  # Config() starts NCCL with these
DEFAULT_PORT = "5678"  # RecBole's


class UsageError(Exception):
    """A command-line or config mistake; printed as one line, exit status 2."""


def configs_dir() -> Path:
    return Path(__file__).parent / "configs"


def resolve_model(name: str):
    """Our models by name, else one of RecBole's general, sequential, context-aware or knowledge models."""
    if name in MODELS:
        return MODELS[name]
    for family in RECBOLE_FAMILIES:
        module_name = f"recbole.model.{family}.{name.lower()}"
        if importlib.util.find_spec(module_name) is not None:
            return getattr(importlib.import_module(module_name), name)
    raise UsageError(f"unknown model {name!r}: use one of {sorted(MODELS)} or a RecBole model name (e.g. SASRec)")


def config_files(model_name: str, dataset: str, user_files: list[str]) -> list[str]:
    root = configs_dir()
    files = [root / "overall.yaml", root / "model" / f"{model_name}.yaml", root / "dataset" / f"{dataset}.yaml"]
    for user_file in user_files:
        if not Path(user_file).is_file():
            raise UsageError(f"--config {user_file}: no such file")
    return [str(f) for f in files if f.is_file()] + list(user_files)


def _yaml_keys(path: Path) -> set[str]:
    with open(path, encoding="utf-8") as f:
        return set((yaml.safe_load(f) or {}).keys())


def known_keys(files: list[str]) -> set[str]:
    """Every key an override may set: RecBole's own property files plus the files of this run."""
    props = Path(recbole.__file__).parent / "properties"
    keys = set(EXTRA_KEYS)
    for path in [*props.glob("*.yaml"), *props.glob("dataset/*.yaml"), *props.glob("model/*.yaml"),
                 *configs_dir().glob("**/*.yaml"), *map(Path, files)]:
        keys |= _yaml_keys(path)
    return keys


def parse_overrides(tokens: list[str], allowed: set[str]) -> dict:
    """`--key=value` or `--key value` pairs -> {key: YAML-typed value}; unknown keys are errors."""
    overrides, i = {}, 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or len(token) == 2:
            raise UsageError(f"unexpected argument {token!r}: options look like --key=value")
        key, sep, value = token[2:].partition("=")
        if not sep:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                raise UsageError(f"option --{key} needs a value: --{key}=VALUE")
            value, i = tokens[i + 1], i + 1
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean --{close[0]}?" if close else ""
            raise UsageError(f"unknown option --{key}{hint}")
        overrides[key] = yaml.safe_load(value)
        i += 1
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_mm.py", allow_abbrev=False, description="Train and evaluate M2Rec or any RecBole model under the paper's protocol.",
        epilog="Any config key can be set as --key=value (e.g. --cut_ratio=0.3 --fusion=concat).")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name (default {DEFAULT_MODEL})")
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help=f"dataset name (default {DEFAULT_DATASET})")
    parser.add_argument("--config", action="append", default=[], metavar="FILE", help="extra YAML config (repeatable)")
    parser.add_argument("--nproc", type=int, default=1, metavar="N",
                        help="train on N GPUs of this machine with RecBole's DDP (NCCL), one process each; "
                             "--port=P if 5678 is taken")
    return parser


@contextlib.contextmanager
def _argv_hidden():
    """RecBole's Config also parses sys.argv (and lets it override everything); we parse it here."""
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved


def make_config(model: str, dataset: str, files: list[str] | None = None, overrides: dict | None = None):
    """RecBole Config for `model` on `dataset` with this project's files and defaults."""
    model_cls = resolve_model(model)
    files = config_files(model, dataset, files or [])
    overrides = dict(overrides or {})
    if "data_path" not in overrides and "M2REC_DATA_PATH" in os.environ:
        overrides["data_path"] = os.environ["M2REC_DATA_PATH"]
    if "gpu_id" not in overrides and "CUDA_VISIBLE_DEVICES" in os.environ:
        overrides["gpu_id"] = os.environ["CUDA_VISIBLE_DEVICES"]  # RecBole would reset it to gpu_id's default, "0"
    distributed = {key: overrides.pop(key) for key in DISTRIBUTED_KEYS if key in overrides}
    with _argv_hidden():
        config = Config(model=model_cls, dataset=dataset, config_file_list=files, config_dict=overrides)
        bpr_without_negatives = (config["loss_type"] == "BPR"
                                 and config["train_neg_sample_args"]["distribution"] == "none")
        if bpr_without_negatives:
            overrides["train_neg_sample_args"] = {"distribution": "uniform", "sample_num": 1}
        if distributed or bpr_without_negatives:  # built once more (a DDP Config joins NCCL, so only then)
            config = Config(model=model_cls, dataset=dataset, config_file_list=files,
                            config_dict={**overrides, **distributed})
    return config


def _ensure_data(config) -> None:
    """Download and convert a known public dataset whose atomic files are missing (issue: datasets)."""
    if config["dataset"] == DEFAULT_DATASET:
        return
    folder = Path(config["data_path"])
    if (folder / f"{config['dataset']}.inter").is_file():
        return
    ensure_dataset(config["dataset"], folder.parent)


def epoch_snapshots(trainer, config):
    """RecBole callback: after each validation, save the model as `<checkpoint>.epochs/epochNNN.pth`
    (same layout as RecBole's checkpoint), for plots of parameters over training."""
    folder = Path(trainer.saved_model_file).with_suffix(".epochs")

    def save(epoch_idx: int, valid_score: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        torch.save({"config": config, "epoch": epoch_idx, "best_valid_score": valid_score,
                    "state_dict": trainer.model.state_dict(), "other_parameter": trainer.model.other_parameter()},
                   folder / f"epoch{epoch_idx:03d}.pth")

    return save


def run(config, saved: bool = True, checkpoint_name: str | None = None) -> dict:
    """Train, reload the best checkpoint, evaluate on the test split; RecBole's logging throughout.
    `checkpoint_name`: the file name in checkpoint_dir (DDP ranks must agree on it; RecBole's has the time)."""
    _ensure_data(config)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    logger = getLogger()
    logger.info(config)
    dataset = create_dataset(config)
    logger.info(dataset)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    train_data = device_batches(config, train_data)

    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model_cls = resolve_model(config["model"])
    model = model_cls(config, train_data._dataset).to(config["device"])
    logger.info(model)
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    if checkpoint_name:
        trainer.saved_model_file = str(Path(config["checkpoint_dir"]) / checkpoint_name)
        trust_checkpoint(trainer.saved_model_file)  # under DDP, rank 0 writes it for every rank
    snapshots = epoch_snapshots(trainer, config) if config["save_epoch_snapshots"] else None
    best_valid_score, best_valid_result = trainer.fit(train_data, valid_data, saved=saved,
                                                      show_progress=config["show_progress"], callback_fn=snapshots)
    if not config["single_spec"]:
        torch.distributed.barrier()  # rank 0 has written the best checkpoint before any rank reloads it
    test_result = trainer.evaluate(test_data, load_best_model=saved, show_progress=config["show_progress"])
    logger.info(set_color("best valid ", "yellow") + f": {best_valid_result}")
    logger.info(set_color("test result", "yellow") + f": {test_result}")
    return {"best_valid_score": best_valid_score, "best_valid_result": best_valid_result,
            "test_result": test_result, "model": model, "trainer": trainer}


def distributed_overrides(overrides: dict, rank: int, nproc: int) -> dict:
    """One DDP process's overrides: RecBole's distributed keys, and every GPU of the job in gpu_id."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") or ",".join(map(str, range(nproc)))
    return {"gpu_id": visible, **overrides, "local_rank": rank, "nproc": nproc, "world_size": nproc, "offset": 0,
            "ip": overrides.get("ip", "localhost"), "port": str(overrides.get("port", DEFAULT_PORT))}


def _print_test_result(result: dict) -> None:
    print("test result: " + "  ".join(f"{k}={v:.4f}" for k, v in result["test_result"].items()))


def _distributed_worker(rank: int, model: str, dataset: str, files: list[str], overrides: dict, nproc: int,
                        checkpoint_name: str) -> None:
    config = make_config(model, dataset, files, distributed_overrides(overrides, rank, nproc))
    result = run(config, checkpoint_name=checkpoint_name)
    if rank == 0:
        _print_test_result(result)
    torch.distributed.destroy_process_group()


def run_distributed(model: str, dataset: str, files: list[str], overrides: dict, nproc: int) -> None:
    """RecBole's own multi-GPU path: one process per GPU (torch.multiprocessing.spawn), each building its
    Config with local_rank (NCCL process group, DistributedSampler, DistributedDataParallel)."""
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if nproc > available:
        raise UsageError(f"--nproc {nproc} needs {nproc} GPUs; this machine has {available}")
    checkpoint_name = f"{model}-{get_local_time()}.pth"
    torch.multiprocessing.spawn(_distributed_worker, args=(model, dataset, files, overrides, nproc, checkpoint_name),
                                nprocs=nproc, join=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    try:
        files = config_files(args.model, args.dataset, args.config)
        overrides = parse_overrides(rest, known_keys(files))
        resolve_model(args.model)
        if args.nproc < 1:
            raise UsageError(f"--nproc must be at least 1, got {args.nproc}")
        if args.nproc > 1:
            return run_distributed(args.model, args.dataset, args.config, overrides, args.nproc) or 0
    except UsageError as error:
        parser.error(str(error))
    config = make_config(args.model, args.dataset, args.config, overrides)
    try:
        result = run(config)
    except (DataError, FileNotFoundError, TextCacheMismatch) as error:
        parser.exit(1, f"error: {error}\n")
    _print_test_result(result)
    return 0

#!/usr/bin/env python
"""Speed and memory of M2Rec, Mamba4Rec, SASRec and BERT4Rec, in one process on one GPU (issue "GPU speed").

The H100 run (ML-1M atomic files in <DIR>/ml-1m/, as `python -m m2rec.data prepare ml-1m` writes them):

    OMP_NUM_THREADS=1 python scripts/benchmark.py --dataset ml-1m --data_path DIR --lengths 200 800 2000 \
        --epochs-timed 2 --batch-size 2048 --device cuda --out results/benchmark

    python scripts/benchmark.py --dataset synthetic --batch-size 256 --out results/benchmark-b256  # sweep alone
    python scripts/benchmark.py --quick --out /tmp/benchmark-quick                               # CPU smoke run

Every model is built as a training run builds it (m2rec.runner.make_config: configs/overall.yaml, the
model's and the dataset's YAML) and runs RecBole's own loop: one warm-up epoch of
`Trainer._train_epoch`, then --epochs-timed timed epochs (their median is `epoch_s`); one warm-up
`Trainer.evaluate` on the validation users, then one timed full-ranking evaluation of all test users
(`eval_s`). Times are `time.perf_counter()` around each call, with `torch.cuda.synchronize()` on CUDA.
`peak_mem_mb` is `torch.cuda.max_memory_allocated` from the built model through training and evaluation,
less the training split that m2rec.loader keeps on the GPU (`resident_data_mb`; CUDA only, the CPU has no
such counter, so it is left empty there). --profile-steps N adds a torch.profiler table per model. All models use hidden size 64 (or
--hidden-size); SASRec and BERT4Rec use RecBole's default depth whatever configs/model/*.yaml says (2
layers, 2 heads, FFN 4 × hidden), M2Rec and Mamba4Rec their YAML defaults. A model that runs out of GPU
memory is recorded as "OOM".

Cases: the named dataset at the first length (the issue's headline numbers: ML-1M, L = 200), then every
length of --lengths on sequences that fill it: the named dataset where its median user has at least
L + 3 interactions, else generated data (`write_synthetic`: users with L + 3 interactions each, about
--synthetic-sequences training sequences per epoch, a fixed seed) written to <out>/data/. Each dataset is
built once and shared by the models. `--dataset synthetic` measures generated data only (e.g. the sweep
again at a batch that SASRec fits at long L). M2Rec's item-text embeddings for the named dataset are
encoded once into <out>/cache/ unless --text_cache names an existing cache; for generated data they are
seeded random 384-d vectors (`RandomTextEncoder`: no encoder weights needed, same cost to the model).

Writes <out>/benchmark.csv (one row per case and model), <out>/benchmark.md (the same with ratios to SASRec
on the same data and L and, on CUDA, the issue's targets) and <out>/benchmark.png (epoch time and peak
memory against L for the sweep, log scales, one line per model), and prints the Markdown. --quick: tiny generated data,
L = 16 and 32, hidden 16, batch 64, one timed epoch, on the CPU; its numbers mean nothing. Runs from a
checkout without installing m2rec.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

import numpy as np
import torch
from recbole.data import create_dataset
from recbole.data.utils import create_samplers, get_dataloader
from recbole.utils import get_trainer, init_seed
from tqdm import tqdm

from m2rec.data import DATASETS, DataError, ensure_dataset
from m2rec.experiment import write_csv, write_markdown
from m2rec.loader import device_batches
from m2rec.runner import UsageError, known_keys, make_config, parse_overrides, resolve_model
from m2rec.scan import resolve_backend
from m2rec.text import TextCacheMismatch, build_cache, canonical_encoder_name

MODELS = ("M2Rec", "Mamba4Rec", "SASRec", "BERT4Rec")
ATTENTION_MODELS = ("SASRec", "BERT4Rec")
REFERENCE = "SASRec"  # ratios are to this model on the same data and L
SYNTHETIC = "synthetic"
EXTRA = 3  # a user needs L + 3 interactions for its test sequence (and its last training ones) to fill L
MIN_CORE = 5  # configs/overall.yaml's 5-core filter
SEED = 2020
MIN_LENGTH = 5
PROFILE_ROWS = 25
SYNTHETIC_TEXT_DIM = 384  # all-MiniLM-L6-v2's width, the default text encoder

FULL = {"dataset": "ml-1m", "lengths": [200, 800, 2000], "hidden_size": 64, "batch_size": 2048,
        "epochs_timed": 2, "device": "cuda", "synthetic_sequences": 16384, "synthetic_items": 3416}
QUICK = {"dataset": SYNTHETIC, "lengths": [16, 32], "hidden_size": 16, "batch_size": 64, "epochs_timed": 1,
         "device": "cpu", "synthetic_sequences": 128, "synthetic_items": 40}
QUICK_OVERRIDES = {"d_state": 8, "eval_batch_size": 256}


@dataclass(frozen=True)
class Target:
    """An M2Rec target of the issue: row[metric] ≤ bound (seconds or MB), or ≤ bound × versus's row[metric]."""
    text: str
    length: int
    data: str | None  # None: any data at this length
    metric: str
    bound: float
    versus: str | None = None


TARGETS = (
    Target("epoch ≤ 10 s", 200, "ml-1m", "epoch_s", 10.0),
    Target("epoch ≤ 1.15× Mamba4Rec", 200, "ml-1m", "epoch_s", 1.15, "Mamba4Rec"),
    Target("epoch ≤ 0.6× SASRec", 200, "ml-1m", "epoch_s", 0.6, "SASRec"),
    Target("eval ≤ 1 s", 200, "ml-1m", "eval_s", 1.0),
    Target("memory ≤ 0.5× SASRec", 200, "ml-1m", "peak_mem_mb", 0.5, "SASRec"),
    Target("≥ 3× faster than SASRec", 2000, None, "epoch_s", 1 / 3, "SASRec"),
    Target("memory ≤ 1/4 SASRec", 2000, None, "peak_mem_mb", 0.25, "SASRec"),
)
RATIOS = (("epoch_s", "epoch_vs_sasrec", "epoch"), ("eval_s", "eval_vs_sasrec", "eval"),
          ("peak_mem_mb", "mem_vs_sasrec", "memory"))  # (metric, its ratio to SASRec, Markdown name)


@dataclass
class Case:
    data: str
    length: int
    parts: list[str] = field(default_factory=list)  # "main" (the named dataset at the first length), "sweep"

    @property
    def generated(self) -> bool:
        return self.data == SYNTHETIC


def plan_cases(dataset: str, lengths: list[int], median_length: float) -> list[Case]:
    """`dataset` at lengths[0], then each length on data that fills it: `dataset` where its median user
    has ≥ L + EXTRA interactions (always for SYNTHETIC, generated per L), else SYNTHETIC."""
    main = Case(dataset, lengths[0], ["main"])
    cases = [main]
    for length in lengths:
        data = dataset if dataset == SYNTHETIC or median_length >= length + EXTRA else SYNTHETIC
        if (data, length) == (main.data, main.length):
            main.parts.append("sweep")
        else:
            cases.append(Case(data, length, ["sweep"]))
    return cases


def write_synthetic(data_path: str | Path, length: int, n_sequences: int, n_items: int, seed: int = SEED) -> None:
    """Write RecBole atomic files `<data_path>/synthetic/synthetic.{inter,item}` for L = `length`.

    Every user has length + EXTRA interactions (`length` training sequences each), with enough users for
    ≥ n_sequences training sequences in all and for every one of the n_items items to occur ≥ MIN_CORE
    times, so the 5-core filter drops nothing. Items are a seeded shuffle of an even multiset; the .item
    file gives each a `title` for M2Rec's text branch.
    """
    per_user = length + EXTRA
    users = max(math.ceil(n_sequences / length), math.ceil(MIN_CORE * n_items / per_user))
    items = [k % n_items for k in range(users * per_user)]
    random.Random(seed).shuffle(items)
    folder = Path(data_path) / SYNTHETIC
    folder.mkdir(parents=True, exist_ok=True)
    inter = ["user_id:token\titem_id:token\ttimestamp:float"]
    for user in range(users):
        inter += [f"u{user}\ti{item}\t{step}" for step, item in enumerate(items[user * per_user:(user + 1) * per_user])]
    (folder / f"{SYNTHETIC}.inter").write_text("\n".join(inter) + "\n", encoding="utf-8")
    titles = ["item_id:token\ttitle:token_seq"] + [f"i{k}\tsynthetic item {k}" for k in range(n_items)]
    (folder / f"{SYNTHETIC}.item").write_text("\n".join(titles) + "\n", encoding="utf-8")


class RandomTextEncoder:
    """Stands in for the text encoder on generated data: seeded random vectors as wide as the default
    encoder's (the speed of M2Rec does not depend on their values), so no encoder weights are needed."""

    def __init__(self, name: str, dim: int = SYNTHETIC_TEXT_DIM, seed: int = SEED):
        self.name, self.dim, self.rng = name, dim, np.random.default_rng(seed)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)  # (n_texts, dim)


def write_synthetic_text_cache(config) -> None:
    """M2Rec's item-text cache for generated data (RandomTextEncoder), written once for all lengths."""
    if not Path(config["text_cache"]).is_file():
        item_file = Path(config["data_path"]) / f"{SYNTHETIC}.item"
        build_cache(item_file, config["text_fields"], RandomTextEncoder(canonical_encoder_name(config["text_encoder"])),
                    config["text_cache"], SYNTHETIC, show_progress=False)


@dataclass
class Data:
    """One case's data, shared by the models: RecBole's dataset, its splits, and each user's interactions."""
    dataset: object
    splits: tuple
    user_lengths: np.ndarray


def case_overrides(case: Case, args: argparse.Namespace) -> dict:
    overrides = {"MAX_ITEM_LIST_LENGTH": case.length, "train_batch_size": args.batch_size,
                 "hidden_size": args.hidden_size, "checkpoint_dir": str(args.out / "cache"), "show_progress": False,
                 "seed": SEED, **(QUICK_OVERRIDES if args.quick else {}), **args.overrides}
    if case.generated:
        overrides.update(data_path=str(args.out / "data" / f"L{case.length}"), text_fields=["title"],
                         text_cache=str(args.out / "cache" / f"{SYNTHETIC}-{args.synthetic_items}items.textemb.pt"))
    else:
        if args.data_path:
            overrides["data_path"] = args.data_path
        if args.text_cache:
            overrides["text_cache"] = args.text_cache
    return overrides


def model_overrides(model: str, hidden_size: int) -> dict:
    """SASRec and BERT4Rec at RecBole's default architecture (properties/model/*.yaml), scaled to hidden_size."""
    if model in ATTENTION_MODELS:
        return {"hidden_size": hidden_size, "n_layers": 2, "n_heads": 2, "inner_size": 4 * hidden_size}
    return {"hidden_size": hidden_size}


def model_config(model: str, case: Case, args: argparse.Namespace):
    config = make_config(model, case.data, overrides={**case_overrides(case, args), "use_gpu": args.device == "cuda",
                                                      **model_overrides(model, args.hidden_size)})
    if args.device == "cpu":  # RecBole's device is CUDA whenever one is visible (gpu_id: "" would hide it process-wide)
        config["device"] = torch.device("cpu")
    return config


def load_data(case: Case, models: list[str], args: argparse.Namespace) -> Data:
    """RecBole's filtered dataset of `case` (generated first when synthetic), augmented and split once."""
    overrides = case_overrides(case, args)
    if case.generated:
        write_synthetic(overrides["data_path"], case.length, args.synthetic_sequences, args.synthetic_items)
    config = make_config(models[0], case.data, overrides=overrides)
    if case.generated and "M2Rec" in models:
        write_synthetic_text_cache(make_config("M2Rec", case.data, overrides=overrides))
    if case.data in DATASETS:  # downloaded and converted when missing, as the runner does
        ensure_dataset(case.data, Path(config["data_path"]).parent)
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    lengths = dataset.inter_feat[dataset.uid_field].value_counts().to_numpy()  # before build() augments it
    return Data(dataset, tuple(dataset.build()), lengths)


def dataloaders(config, data: Data) -> tuple:
    """RecBole's data_preparation on already split data (build() augments the dataset in place, so it runs
    once per case): this model's own loaders, as BERT4Rec's masking is its train loader's transform."""
    samplers = create_samplers(config, data.dataset, data.splits)
    train, valid, test = (get_dataloader(config, phase)(config, split, sampler, shuffle=phase == "train" and config["shuffle"])
                          for phase, split, sampler in zip(("train", "valid", "test"), data.splits, samplers))
    return device_batches(config, train), valid, test


def _timed(step, cuda: bool) -> float:
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(config, data: Data, epochs_timed: int, profile_steps: int = 0) -> dict:
    """Epoch time (median of the timed epochs after a warm-up one), test evaluation time and peak memory."""
    train_data, valid_data, test_data = dataloaders(config, data)
    device = config["device"]
    cuda = device.type == "cuda"
    init_seed(config["seed"], config["reproducibility"])
    model = resolve_model(config["model"])(config, train_data._dataset).to(device)
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    gc.collect()  # a text encoder loaded to build M2Rec's cache is not part of the model's memory
    resident = train_data.resident_bytes() if hasattr(train_data, "resident_bytes") else 0  # moves the split now
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    trainer._train_epoch(train_data, 0)
    epochs = [_timed(lambda epoch=epoch: trainer._train_epoch(train_data, epoch), cuda)
              for epoch in range(1, epochs_timed + 1)]
    trainer.evaluate(valid_data, load_best_model=False)
    eval_s = _timed(lambda: trainer.evaluate(test_data, load_best_model=False), cuda)
    row = {"epoch_s": statistics.median(epochs), "epoch_s_runs": epochs, "eval_s": eval_s,
           "peak_mem_mb": (torch.cuda.max_memory_allocated(device) - resident) / 2**20 if cuda else None,
           "resident_data_mb": resident / 2**20}
    if profile_steps:
        row["profile"] = profile(trainer, train_data, profile_steps, cuda)
    return row


def profile(trainer, train_data, steps: int, cuda: bool) -> str:
    """torch.profiler over `steps` training steps (forward, backward, Adam; the epoch's batches again from
    the first when it has fewer): the GPU kernels (CUDA) or the CPU operators that take the most time, per
    step, as text."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    model, batches = trainer.model, itertools.cycle(train_data)
    model.train()
    with torch_profile(activities=activities) as prof:
        for _ in range(steps):
            trainer.optimizer.zero_grad()
            model.calculate_loss(next(batches).to(trainer.device)).backward()
            trainer.optimizer.step()
        if cuda:
            torch.cuda.synchronize()
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    events = prof.key_averages()
    if cuda:  # the kernels themselves: an operator's device time is its kernels', which would count twice
        events = [event for event in events if event.device_type == torch.autograd.DeviceType.CUDA]
    events = sorted(events, key=lambda event: getattr(event, key), reverse=True)
    total = sum(getattr(event, key) for event in events) or 1.0
    lines = [f"{'ms/step':>9} {'share':>6}  {'calls/step':>10}  {'kernel (GPU' if cuda else 'operator (CPU self'} "
             f"time, {steps} steps)"]
    for event in events[:PROFILE_ROWS]:
        lines.append(f"{getattr(event, key) / 1e3 / steps:9.3f} {getattr(event, key) / total:6.1%}  "
                     f"{event.count / steps:10.1f}  {event.key[:90]}")
    lines.append(f"{total / 1e3 / steps:9.3f} {1:6.0%}  {'':10}  all {'kernels' if cuda else 'operators'}")
    return "\n".join(lines)


def device_name(device: str) -> str:
    return torch.cuda.get_device_name() if device == "cuda" else "cpu"


def run_cases(args: argparse.Namespace) -> tuple[list[dict], float]:
    """Every (case, model) row, and the named dataset's median user length."""
    data = load_data(Case(args.dataset, args.lengths[0]), args.models, args)
    median_length = float(np.median(data.user_lengths))
    cases = plan_cases(args.dataset, args.lengths, median_length)  # cases[0] is the dataset just loaded
    rows = []
    bar = tqdm(total=len(cases) * len(args.models), desc="benchmark", unit="run")
    for index, case in enumerate(cases):
        if index:
            data = load_data(case, args.models, args)
        for model in args.models:
            bar.set_postfix_str(f"{case.data} L={case.length} {model}")
            config = model_config(model, case, args)
            row = {"data": case.data, "L": case.length, "model": model, "generated": "yes" if case.generated else "no",
                   "part": ", ".join(case.parts), "train_sequences": int((data.user_lengths - EXTRA).sum()),
                   "test_users": len(data.user_lengths), "batch_size": args.batch_size, "hidden_size": args.hidden_size,
                   "device": device_name(args.device), "torch": torch.__version__,
                   "scan": resolve_backend(config["mamba_backend"], config["device"])
                   if model not in ATTENTION_MODELS else "n/a"}
            try:
                row.update(status="ok", **measure(config, data, args.epochs_timed, args.profile_steps))
            except torch.cuda.OutOfMemoryError:
                row.update(status="OOM", epoch_s=None, epoch_s_runs=None, eval_s=None, peak_mem_mb=None,
                           resident_data_mb=None)
            if "profile" in row:
                path = args.out / "profiles" / f"{case.data}-L{case.length}-{model}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(row.pop("profile") + "\n", encoding="utf-8")
            gc.collect()
            if args.device == "cuda":
                torch.cuda.empty_cache()
            rows.append(row)
            write_csv(rows, args.out / "benchmark.csv")  # the rows so far, should the run be cut short
            bar.update()
    bar.close()
    return rows, median_length


def _group(rows: list[dict], row: dict) -> dict[str, dict]:
    return {other["model"]: other for other in rows if (other["data"], other["L"]) == (row["data"], row["L"])}


def add_ratios(rows: list[dict]) -> list[dict]:
    """Each row's epoch, eval and memory over SASRec's on the same data and L (None where either is missing)."""
    for row in rows:
        reference = _group(rows, row).get(REFERENCE, {})
        for metric, ratio, _ in RATIOS:
            ours, theirs = row.get(metric), reference.get(metric)
            row[ratio] = ours / theirs if ours is not None and theirs else None
    return rows


def target_checks(row: dict, rows: list[dict]) -> list[tuple[str, bool | None]]:
    """(target, met) for each target of the issue that applies to this M2Rec row; met is None where the
    model it is compared with is missing or ran out of memory."""
    if row["model"] != "M2Rec":
        return []
    group = _group(rows, row)
    checks = []
    for target in TARGETS:
        if target.length != row["L"] or target.data not in (None, row["data"]):
            continue
        ours = row.get(target.metric)
        theirs = group.get(target.versus, {}).get(target.metric) if target.versus else 1.0
        if ours is None:
            checks.append((target.text, False))
        elif theirs is None:
            checks.append((target.text, None))
        else:
            checks.append((target.text, ours <= target.bound * theirs))
    return checks


def _check_text(checks: list[tuple[str, bool | None]]) -> str:
    marks = {True: "✓", False: "✗", None: "?"}
    return "; ".join(f"{marks[met]} {text}" for text, met in checks)


def _number(value: float | None, status: str, digits: int, unit: str = "") -> str:
    return status if status != "ok" else "" if value is None else f"{value:.{digits}f}{unit}"


def markdown_rows(rows: list[dict], on_cuda: bool) -> list[dict]:
    out = []
    for row in rows:
        text = {"data": row["data"], "L": str(row["L"]), "model": row["model"], "generated": row["generated"],
                "epoch s": _number(row["epoch_s"], row["status"], 2),
                "eval s": _number(row["eval_s"], row["status"], 3),
                "peak MB": _number(row["peak_mem_mb"], row["status"], 0) if on_cuda else "n/a (CPU)"}
        for metric, ratio, name in RATIOS:
            if on_cuda or metric != "peak_mem_mb":
                text[f"{name} ×SASRec"] = _number(row[ratio], "ok", 2, "×")
        if on_cuda:
            text["targets"] = _check_text(target_checks(row, rows))
        out.append(text)
    return out


def write_report(rows: list[dict], args: argparse.Namespace, median_length: float) -> Path:
    on_cuda = args.device == "cuda"
    path = write_markdown(markdown_rows(rows, on_cuda), args.out / "benchmark.md",
                          title=f"Speed and memory: {', '.join(args.models)} on {device_name(args.device)}")
    scans = sorted({row["scan"] for row in rows} - {"n/a"})
    notes = [
        f"torch {torch.__version__}; selective scan: {', '.join(scans) or 'n/a'} (cuda = mamba-ssm); batch {args.batch_size}, "
        f"hidden {args.hidden_size}; SASRec and BERT4Rec: 2 layers, 2 heads, FFN {4 * args.hidden_size}"
        + (f"; overrides {args.overrides}." if args.overrides else "."),
        f"epoch s: median of {args.epochs_timed} timed epoch(s) of RecBole's Trainer._train_epoch after a warm-up "
        "epoch. eval s: one full-ranking Trainer.evaluate of all test users, after a warm-up on the validation "
        "users. peak MB: torch.cuda.max_memory_allocated over training and evaluation, less the training split "
        "that m2rec.loader keeps on the GPU for every model that RecBole's loader feeds without negatives or "
        "a transform (resident_data_mb in the CSV; BERT4Rec's masking keeps RecBole's CPU loader)"
        + ("." if on_cuda else " (CUDA only: n/a on this CPU run)."),
        f"×SASRec: the ratio to SASRec on the same data and L. OOM: out of GPU memory at batch {args.batch_size}.",
        f"generated = yes: synthetic data (users of L + {EXTRA} interactions, {args.synthetic_items} items, "
        f"≥ {args.synthetic_sequences} training sequences, seed {SEED}) in {args.out / 'data'}"
        + ("." if args.dataset == SYNTHETIC else f"; used at the lengths that {args.dataset} does not fill (its "
           f"median user has {median_length:g} interactions, L + {EXTRA} are needed)."),
        "targets (issue \"GPU speed\", M2Rec rows): ✓ met, ✗ missed, ? the model compared with is missing or OOM "
        "(for an OOM, measure that length again at a batch it fits: --dataset synthetic --lengths L --batch-size 256)."
        if on_cuda else "The issue's targets are checked on CUDA runs only.",
    ]
    if args.quick:
        notes.append("--quick smoke run: tiny data on the CPU; the numbers mean nothing.")
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n" + "".join(f"- {note}\n" for note in notes))
    return path


def plot(rows: list[dict], path: Path, on_cuda: bool) -> Path:
    """Epoch time and peak memory against L for the sweep rows, one line per model, log scales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    sweep = sorted((row for row in rows if "sweep" in row["part"]), key=lambda row: row["L"])
    lengths = sorted({row["L"] for row in sweep})
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(10, 3.8))
    for model in dict.fromkeys(row["model"] for row in sweep):
        ok = [row for row in sweep if row["model"] == model and row["status"] == "ok"]
        oom = [str(row["L"]) for row in sweep if row["model"] == model and row["status"] == "OOM"]
        label = model + (f" (OOM at L = {', '.join(oom)})" if oom else "")
        ax_time.plot([row["L"] for row in ok], [row["epoch_s"] for row in ok], marker="o", label=label)
        if on_cuda:
            ax_mem.plot([row["L"] for row in ok], [row["peak_mem_mb"] for row in ok], marker="o", label=label)
    axes = [ax_time, ax_mem] if on_cuda else [ax_time]
    for ax, ylabel in zip(axes, ("seconds per training epoch", "peak GPU memory (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(length) for length in lengths])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("L (max sequence length)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize="small")
    ax_time.set_title("training epoch time")
    ax_mem.set_title("peak GPU memory")
    if not on_cuda:
        ax_mem.text(0.5, 0.5, "not measured on the CPU", ha="center", va="center", transform=ax_mem.transAxes)
        ax_mem.set_axis_off()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dataset", help=f"named dataset, measured at the first length (default {FULL['dataset']}; "
                                          f"'{SYNTHETIC}' = generated data only)")
    parser.add_argument("--data_path", "--data-path", metavar="DIR", help="folder holding <dataset>/<dataset>.inter "
                                                           "(default: the runner's, $M2REC_DATA_PATH or dataset/)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, metavar="NAME",
                        help=f"models to measure (default: {' '.join(MODELS)})")
    parser.add_argument("--lengths", nargs="+", type=int, metavar="L",
                        help="max sequence lengths; the named dataset runs at the first (default 200 800 2000)")
    parser.add_argument("--epochs-timed", type=int, metavar="N", help="timed epochs after the warm-up one (default 2)")
    parser.add_argument("--batch-size", type=int, metavar="N", help="training batch size (default 2048)")
    parser.add_argument("--hidden-size", type=int, metavar="N", help="hidden size of every model (default 64)")
    parser.add_argument("--device", choices=("cuda", "cpu"), help="default cuda (cpu with --quick)")
    parser.add_argument("--text_cache", "--text-cache", metavar="FILE",
                        help="M2Rec's item-text embedding cache for the named dataset")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for every run, e.g. --override text_fields=[title] (repeatable; "
                             "generated data keeps its own data_path, text_fields and text_cache)")
    parser.add_argument("--synthetic-sequences", type=int, metavar="N",
                        help="training sequences per epoch of generated data (default 16384)")
    parser.add_argument("--synthetic-items", type=int, metavar="N", help="items of generated data (default 3416)")
    parser.add_argument("--profile-steps", type=int, default=0, metavar="N",
                        help="also profile N training steps of every model (torch.profiler), into "
                             "<out>/profiles/<data>-L<L>-<model>.txt (default 0: no profile)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmark"), metavar="DIR",
                        help="output folder (default results/benchmark)")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: tiny generated data, L = 16 and 32, "
                                                             "hidden 16, batch 64, one timed epoch")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.lengths) < MIN_LENGTH or len(set(args.lengths)) != len(args.lengths):
        parser.error(f"--lengths must be distinct and ≥ {MIN_LENGTH} (BERT4Rec masks 20% of L), got {args.lengths}")
    if min(args.epochs_timed, args.batch_size, args.hidden_size, args.synthetic_sequences, args.synthetic_items) < 1:
        parser.error("--epochs-timed, --batch-size, --hidden-size and --synthetic-* must be positive")
    try:
        args.overrides = parse_overrides([f"--{item}" for item in args.override], known_keys([]))
    except UsageError as error:
        parser.error(str(error))
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device cuda: torch {torch.__version__} sees no CUDA device; use --device cpu")
    try:
        rows, median_length = run_cases(args)
    except (DataError, FileNotFoundError, TextCacheMismatch, ValueError) as error:  # ValueError: m2rec.text's
        parser.exit(1, f"error: {error}\n")
    add_ratios(rows)
    write_csv(rows, args.out / "benchmark.csv")
    markdown = write_report(rows, args, median_length)
    plot(rows, args.out / "benchmark.png", args.device == "cuda")
    print(markdown.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

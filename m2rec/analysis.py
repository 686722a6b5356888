"""Per-user evaluation of trained checkpoints, for the paper's analyses beyond Table II.

RQ2 (Sec. IV-C, Fig. 3) groups test users by sequence length, RQ5 (Sec. IV-F, Fig. 7) adds Gaussian
noise to the item embeddings at prediction time, and the cold-start study (issue 6, beyond the paper)
slices test users by the popularity of their held-out item and by their history length. All three
need each test user's rank of the held-out item, which RecBole's `Trainer.evaluate` only returns
averaged. `evaluate_ranks` repeats RecBole's full-sort evaluation (`Trainer._full_sort_batch_eval`
and the `rec.topk` collector: padding item scored -inf, history not masked for sequential models,
`torch.topk` over the same batches), so the mean over all users equals RecBole's test result for
the same checkpoint (tests/test_analysis.py checks it).

    trained = load_checkpoint("results/rq2/checkpoints/M2Rec-ml-1m-seed2020-1a2b3c4d.pth")
    users, targets, ranks = evaluate_ranks(trained.model, trained.data.test, trained.device)
    groups = length_groups(trained.data.history_length[users], edges=(100, 200, 300))
    rows = slice_rows(ranks, groups, ks=(10,))     # group, users, hit@10, ndcg@10, mrr@10

Definitions (docs/experiments.md says the same):
    rank            1-based position of the held-out item in RecBole's top-K order (K = max topk);
                    K + 1 when it is not among the top K. HR@k = [rank <= k],
                    NDCG@k = [rank <= k] / log2(rank + 1), MRR@k = [rank <= k] / rank (one positive).
    history length  the number of items a user interacted with before the test item, untruncated
                    (the model reads only the last MAX_ITEM_LIST_LENGTH of them).
    train count     an item's interactions in the training part of all sequences (everything
                    before each user's validation item).
    noise           N(0, (p·σ)²) added once, with a fixed seed, to the rows of the real items of
                    `model.item_embedding` (σ: the std of those rows), which every model here uses
                    both to embed the input sequence and to score the candidates; restored afterwards.

It also holds what the analysis scripts in scripts/ share: their command line, quick settings,
averaging over seeds, Markdown rows and a grouped-bar figure.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from tqdm import tqdm

from m2rec.experiment import _pyplot, _save, mean_std, run_cells, write_csv, write_markdown
from m2rec.runner import UsageError, known_keys, make_config, parse_overrides, resolve_model

METRIC_NAMES = {"hit": "HR", "ndcg": "NDCG", "mrr": "MRR"}  # RecBole's metric -> the paper's
QUICK_DATASET = "ml-100k"
QUICK_OVERRIDES = {  # table2.py's smoke settings, and only ML-100K's users with at most 40 interactions
    "epochs": 1, "stopping_step": 1, "MAX_ITEM_LIST_LENGTH": 20, "hidden_size": 16, "embedding_size": 16,
    "inner_size": 32, "d_state": 8, "train_batch_size": 512, "eval_batch_size": 4096,
    "user_inter_num_interval": "[5,40]",
}
DEFAULT_TEXT_CACHE_DIR = "saved/text"
TICK_LABEL_WIDTH = 12  # characters per line of a bar chart's group name


# --------------------------------------------------------------------------- metrics from ranks

def metric_names(ks: Sequence[int]) -> list[str]:
    """RecBole's names of the protocol's metrics, in Table II's order: hit@k, ndcg@k, mrr@k for each k."""
    return [f"{metric}@{k}" for k in ks for metric in METRIC_NAMES]


def paper_name(metric: str) -> str:
    """'hit@10' -> 'HR@10' (the paper's spelling)."""
    name, _, k = metric.partition("@")
    return f"{METRIC_NAMES[name]}@{k}"


def user_metrics(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-user HR, NDCG and MRR at each k from 1-based ranks (a rank past the cut-off counts as a miss)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out = {}
    for k in ks:
        inside = ranks <= k
        out[f"hit@{k}"] = inside.astype(np.float64)
        out[f"ndcg@{k}"] = np.where(inside, 1.0 / np.log2(ranks + 1.0), 0.0)
        out[f"mrr@{k}"] = np.where(inside, 1.0 / ranks, 0.0)
    return {name: out[name] for name in metric_names(ks)}


def mean_metrics(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    """Means of `user_metrics` (NaN for no users)."""
    return {name: float(values.mean()) if values.size else math.nan
            for name, values in user_metrics(ranks, ks).items()}


def slice_rows(ranks: np.ndarray, slices: Mapping[str, np.ndarray], ks: Sequence[int]) -> list[dict]:
    """One row per slice: {group, users, <metric>...}; each slice is a boolean mask over the users."""
    ranks = np.asarray(ranks)
    return [{"group": group, "users": int(np.count_nonzero(mask)), **mean_metrics(ranks[np.asarray(mask)], ks)}
            for group, mask in slices.items()]


# --------------------------------------------------------------------------- slices

GROUPINGS = ("cumulative", "disjoint")


def length_groups(lengths: np.ndarray, edges: Sequence[int] = (100, 200, 300),
                  grouping: str = "cumulative") -> dict[str, np.ndarray]:
    """RQ2's sequence-length groups as boolean masks over the users.

    cumulative (the paper's words, Sec. IV-C): "< 100", "< 200", "< 300": nested, each group holds the
    previous one; users at or past the last edge are in none. disjoint: "[0, 100)", "[100, 200)",
    "[200, 300)", ">= 300": every user in exactly one.
    """
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {GROUPINGS}, got {grouping!r}")
    edges = list(edges)
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] <= 0:
        raise ValueError(f"length edges must be positive and increasing, e.g. 100 200 300; got {edges}")
    lengths = np.asarray(lengths)
    if grouping == "cumulative":
        return {f"< {edge}": lengths < edge for edge in edges}
    bounds = [0, *edges]
    groups = {f"[{lo}, {hi})": (lengths >= lo) & (lengths < hi) for lo, hi in zip(bounds, bounds[1:])}
    groups[f">= {edges[-1]}"] = lengths >= edges[-1]
    return groups


def cold_start_groups(history: np.ndarray, target_train_count: np.ndarray, max_item_count: int = 5,
                      max_history: int = 5) -> dict[str, np.ndarray]:
    """Cold-start slices: all users; users whose test item has at most `max_item_count` training
    interactions (cold items) or more (warm items); users with at most `max_history` history items
    (cold users) or more (warm users)."""
    history, count = np.asarray(history), np.asarray(target_train_count)
    return {
        "all": np.ones(len(history), dtype=bool),
        f"cold items (<= {max_item_count} train inter.)": count <= max_item_count,
        f"warm items (> {max_item_count})": count > max_item_count,
        f"cold users (<= {max_history} history)": history <= max_history,
        f"warm users (> {max_history})": history > max_history,
    }


# --------------------------------------------------------------------------- data and checkpoints

@dataclass
class EvalData:
    """What the slices need from a dataset, indexed by RecBole's internal ids."""

    test: Any  # RecBole's FullSortEvalDataLoader over the test split
    history_length: np.ndarray  # (user_num,) items before each user's test item, untruncated
    train_item_count: np.ndarray  # (item_num,) training interactions of each item


# RecBole's dataset and evaluation settings (its argument_list) decide the test split and its batches.
_DATA_KEYS = ("dataset", "data_path", "MODEL_TYPE")


def _data_key(config) -> str:
    import recbole.data.dataset as datasets
    from recbole.utils.argument_list import dataset_arguments, evaluation_arguments

    own_class = config["model"] if hasattr(datasets, f"{config['model']}Dataset") else None
    values = {key: config[key] for key in (*_DATA_KEYS, *dataset_arguments, *evaluation_arguments)}
    return json.dumps([own_class, values], sort_keys=True, default=str)


_DATA_CACHE: dict[str, EvalData] = {}


def eval_data(config) -> EvalData:
    """Build (or reuse, for the same dataset settings) the test loader and the per-user/per-item counts."""
    from recbole.data import create_dataset, data_preparation

    key = _data_key(config)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()  # one dataset at a time: an augmented ML-1M holds gigabytes
        dataset = create_dataset(config)
        _, valid, test = data_preparation(config, dataset)
        _DATA_CACHE[key] = EvalData(test, *_counts(dataset, valid._dataset, test._dataset))
    return _DATA_CACHE[key]


def _counts(full, valid, test) -> tuple[np.ndarray, np.ndarray]:
    """History lengths and training counts from RecBole's augmented datasets (one row per target item:
    a user with n interactions has n - 1 rows, the first of which has a one-item sequence)."""
    uid, iid = full.uid_field, full.iid_field
    users = full.inter_feat[uid].numpy()
    history = np.bincount(users, minlength=full.user_num)  # n - 1: the items before the test item
    seq = full.inter_feat[full.item_id_list_field].numpy()
    first_rows = full.inter_feat[full.item_list_length_field].numpy() == 1
    if np.count_nonzero(first_rows) != len(np.unique(users)):
        raise ValueError("cannot find each user's first item: set MAX_ITEM_LIST_LENGTH >= 2")

    def count(items: np.ndarray) -> np.ndarray:
        return np.bincount(items, minlength=full.item_num)

    train = (count(full.inter_feat[iid].numpy()) + count(seq[first_rows, 0])
             - count(valid.inter_feat[iid].numpy()) - count(test.inter_feat[iid].numpy()))
    return history, train


@dataclass
class Trained:
    model: torch.nn.Module
    config: Any
    data: EvalData
    device: torch.device
    epoch: int  # the checkpoint's (best) epoch, 0-based


def load_checkpoint(path: str | Path, device: str | torch.device | None = None,
                    overrides: Mapping[str, Any] | None = None) -> Trained:
    """A model rebuilt from a RecBole/m2rec checkpoint (a pickle: load only your own), in eval mode,
    with its test data. device defaults to CUDA when available; `overrides` replace config values
    (e.g. a data_path or text_cache that moved since training)."""
    from recbole.utils import init_seed

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found; rerun the experiment (its runs.jsonl names "
                                "the checkpoint of each run) or delete that run's line to train it again")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    config = checkpoint["config"]
    for key, value in (overrides or {}).items():
        config[key] = value
    device = torch.device(device) if device is not None else default_device()
    config["device"] = device
    data = eval_data(config)
    init_seed(config["seed"], config["reproducibility"])
    model = resolve_model(config["model"])(config, data.test._dataset)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    return Trained(model.to(device).eval(), config, data, device, int(checkpoint["epoch"]))


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# --------------------------------------------------------------------------- evaluation

def target_ranks(scores: torch.Tensor, targets: torch.Tensor, k: int) -> torch.Tensor:
    """1-based position of each target in `torch.topk(scores, k)` (RecBole's order), k + 1 when absent.

    scores: (B, n_items); targets: (B,) item ids. Returns (B,) int64.
    """
    top = torch.topk(scores, k, dim=-1).indices  # (B, k)
    found = top == targets[:, None]  # (B, k)
    position = found.float().argmax(dim=1) + 1  # (B,)
    return torch.where(found.any(dim=1), position, torch.full_like(position, k + 1))


@torch.no_grad()
def evaluate_ranks(model: torch.nn.Module, loader, device: torch.device) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, targets, ranks) over a full-sort test loader, as RecBole's Trainer scores it."""
    model.eval()
    k = max(loader.config["topk"])
    n_items = loader._dataset.item_num
    uid_field = loader._dataset.uid_field
    users, targets, ranks = [], [], []
    for interaction, history_index, positive_u, positive_i in tqdm(loader, desc="per-user evaluation",
                                                                    unit="batch", leave=False):
        if len(positive_u) != len(interaction) or not torch.equal(positive_u, torch.arange(len(interaction))):
            raise ValueError("per-user evaluation needs one held-out item per test row (a sequential model under "
                             "leave-one-out, eval_args.mode: full); this loader gives several")
        interaction = interaction.to(device)
        try:
            scores = model.full_sort_predict(interaction)
        except NotImplementedError:
            raise ValueError(f"{type(model).__name__} has no full_sort_predict; per-user evaluation needs one") from None
        scores = scores.view(-1, n_items)
        scores[:, 0] = -math.inf
        if history_index is not None:
            scores[history_index] = -math.inf
        ranks.append(target_ranks(scores, positive_i.to(device), k).cpu())
        users.append(interaction[uid_field].cpu())
        targets.append(positive_i.cpu())
    return torch.cat(users).numpy(), torch.cat(targets).numpy(), torch.cat(ranks).numpy()


@contextlib.contextmanager
def item_embedding_noise(model: torch.nn.Module, level: float, seed: int = 0) -> Iterator[None]:
    """RQ5: within the block, rows 1 .. n_items-1 of `model.item_embedding` carry N(0, (level·σ)²) noise,
    σ the std of those rows; one draw from a CPU generator seeded with `seed`. level 0 changes nothing."""
    if level < 0:
        raise ValueError(f"noise level must be >= 0 (a fraction of the embedding std, e.g. 0.1), got {level}")
    table = getattr(model, "item_embedding", None)
    if not isinstance(table, torch.nn.Embedding):
        raise ValueError(f"{type(model).__name__} has no item_embedding table; noise injection (RQ5) supports "
                         "models that embed and score items with one (M2Rec, Mamba4Rec, BERT4Rec, SASRec)")
    if level == 0:
        yield
        return
    rows = table.weight.data[1:model.n_items]  # (n_items - 1, d): real items, not padding or a mask token
    saved = rows.clone()
    sigma = float(rows.float().std())
    noise = torch.randn(rows.shape, generator=torch.Generator().manual_seed(seed)) * (level * sigma)
    rows.add_(noise.to(device=rows.device, dtype=rows.dtype))
    try:
        yield
    finally:
        rows.copy_(saved)


Slicer = Callable[[EvalData, np.ndarray, np.ndarray], Mapping[str, np.ndarray]]


def evaluate_slices(records: Sequence[Mapping], slicer: Slicer, device: torch.device | None = None,
                    noise_levels: Sequence[float] = (0.0,), noise_seed: int = 0) -> list[dict]:
    """Per-seed slice rows for the runs of `run_cells`: {label, model, seed, noise, group, users, metrics}.

    slicer(data, users, targets) returns the slices (boolean masks over the test users). At noise 0 the
    all-users means are checked against the run's recorded test result (a warning when they differ).
    """
    rows = []
    for record in tqdm(records, desc="checkpoints", unit="ckpt"):
        trained = load_checkpoint(record["checkpoint"], device)
        ks = list(trained.config["topk"])
        for level in noise_levels:
            with item_embedding_noise(trained.model, level, noise_seed):
                users, targets, ranks = evaluate_ranks(trained.model, trained.data.test, trained.device)
            if level == 0:
                check_against_recbole(mean_metrics(ranks, ks), record["test"], record["checkpoint"],
                                      trained.config["metric_decimal_place"])
            for row in slice_rows(ranks, slicer(trained.data, users, targets), ks):
                rows.append({"label": record["label"], "model": record["model"], "seed": record["seed"],
                             "noise": level, **row})
    return rows


def check_against_recbole(ours: Mapping[str, float], recbole: Mapping[str, float], where: str,
                          decimals: int = 4) -> bool:
    """True when our all-users means equal RecBole's test result, which it rounds to `decimals`
    (metric_decimal_place); warns otherwise."""
    tolerance = 0.5 * 10.0 ** -decimals + 1e-7
    differ = {m: (ours[m], recbole[m]) for m in recbole if m in ours and not abs(ours[m] - recbole[m]) <= tolerance}
    if differ:
        warnings.warn(f"{where}: per-user evaluation differs from RecBole's test result {differ} "
                      "(ours, RecBole's); was the checkpoint overwritten or the dataset changed since training?",
                      stacklevel=2)
    return not differ


# --------------------------------------------------------------------------- tables

def mean_over_seeds(rows: Sequence[Mapping], by: Sequence[str], metrics: Sequence[str]) -> list[dict]:
    """Group rows by `by` (first-seen order): {by..., users (first row's), seeds, <M>, <M>_std...} with the
    paper's metric names M (sample std over seeds; 0.0 for one seed)."""
    groups: dict[tuple, list[Mapping]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in by), []).append(row)
    table = []
    for values, members in groups.items():
        out: dict[str, Any] = dict(zip(by, values))
        if "users" in members[0]:
            out["users"] = members[0]["users"]
        out["seeds"] = len(members)
        for metric in metrics:
            sample = np.array([member[metric] for member in members], dtype=np.float64)  # NaN for an empty slice
            out[paper_name(metric)] = float(sample.mean())
            out[f"{paper_name(metric)}_std"] = float(sample.std(ddof=1)) if len(sample) > 1 else 0.0
        table.append(out)
    return table


def summary_rows(summary: Sequence[Mapping], by: Sequence[str], metrics: Sequence[str]) -> list[dict]:
    """`experiment.summarize` rows as {by..., seeds, <M>, <M>_std...} with the test metrics under the paper's names."""
    table = []
    for row in summary:
        out: dict[str, Any] = {key: row[key] for key in by}
        out["seeds"] = row["n"]
        for metric in metrics:
            out[paper_name(metric)] = row[f"test_{metric}"]
            out[f"{paper_name(metric)}_std"] = row[f"test_{metric}_std"]
        table.append(out)
    return table


def markdown_rows(table: Sequence[Mapping], keys: Sequence[str], metrics: Sequence[str]) -> list[dict]:
    """The rows as text: the `keys` columns as they are, each metric as 'mean ± std' (blank when NaN)."""
    out = []
    for row in table:
        text = {key: row[key] for key in keys}
        for metric in metrics:
            name = paper_name(metric)
            text[name] = "" if math.isnan(row[name]) else mean_std(row[name], row[f"{name}_std"], row["seeds"])
        out.append(text)
    return out


def plot_grouped_bars(rows: Sequence[Mapping], x: str, ys: Sequence[str], path: str | Path, hue: str | None = None,
                      std_suffix: str = "_std", title: str | None = None, legend_title: str | None = None,
                      xlabel: str | None = None) -> Path:
    """One panel per y; in each, the values of row[x] on the axis with one bar per value of row[hue]
    (one bar when hue is None), ±row[y + std_suffix] error bars (none when all are 0)."""
    plt = _pyplot()
    xs = list(dict.fromkeys(str(row[x]) for row in rows))
    hues = list(dict.fromkeys(str(row[hue]) for row in rows)) if hue else [None]
    lookup = {(str(row[x]), str(row[hue]) if hue else None): row for row in rows}
    width = 0.8 / len(hues)
    labels = [textwrap.fill(value, TICK_LABEL_WIDTH) for value in xs]  # long group names wrap, never overlap
    panel_width = max(3.5, len(xs) * max(1.3, 0.3 * len(hues)) + 1.0)
    label_lines = max(label.count("\n") + 1 for label in labels)
    fig, axes = plt.subplots(1, len(ys), figsize=(panel_width * len(ys), 3.0 + 0.18 * label_lines), squeeze=False)
    for ax, y in zip(axes[0], ys):
        for j, name in enumerate(hues):
            members = [lookup.get((value, name)) for value in xs]
            heights = [math.nan if m is None else m[y] for m in members]
            errors = [0.0 if m is None or math.isnan(m.get(y + std_suffix, 0.0)) else m.get(y + std_suffix, 0.0)
                      for m in members]
            positions = np.arange(len(xs)) + (j - (len(hues) - 1) / 2) * width
            ax.bar(positions, heights, width, yerr=errors if any(errors) else None, capsize=2, label=name)
        ax.set_xticks(np.arange(len(xs)), labels, fontsize="small")
        ax.set_ylabel(y)
        ax.set_xlabel(xlabel or x)
    if hue:
        axes[0][-1].legend(title=legend_title or hue, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(title, fontsize="medium")
    return _save(plt, fig, path)


# --------------------------------------------------------------------------- the scripts' command line

def script_parser(doc: str, default_dataset: str, name: str, default_seeds: Sequence[int] = (2020, 2021, 2022)
                  ) -> argparse.ArgumentParser:
    """The options every analysis script takes; the script adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0], allow_abbrev=False)
    parser.set_defaults(script_name=name, default_dataset=default_dataset)
    parser.add_argument("--dataset", help=f"dataset name (default {default_dataset}; {QUICK_DATASET} with --quick)")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(default_seeds), metavar="SEED")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: the first GPU when there is one)")
    parser.add_argument("--out", help=f"output folder (default results/{name}-<dataset>)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for every run, e.g. --override train_batch_size=1024 (repeatable)")
    parser.add_argument("--config", action="append", default=[], metavar="FILE", help="extra YAML config (repeatable)")
    parser.add_argument("--text-cache-dir", default=DEFAULT_TEXT_CACHE_DIR, metavar="DIR",
                        help="reuse M2Rec's item-text embedding cache <DIR>/<dataset>-<encoder>.textemb.pt when it "
                             f"exists (default {DEFAULT_TEXT_CACHE_DIR}, where training and `python -m m2rec.text "
                             "build` put it); otherwise the first M2Rec run builds one under <out>/checkpoints/text")
    parser.add_argument("--quick", action="store_true",
                        help=f"CPU smoke run in about a minute: {QUICK_DATASET} (users with <= 40 interactions) unless "
                             "--dataset is given, one epoch, L = 20, tiny widths; its numbers mean nothing")
    parser.add_argument("--keep-going", action="store_true",
                        help="log a failing run to <out>/errors.log and go on with the others")
    parser.add_argument("--show-progress", action="store_true", help="RecBole's progress bars within each epoch")
    return parser


@dataclass
class ScriptArgs:
    args: argparse.Namespace
    dataset: str
    out: Path
    overrides: dict  # for every cell: quick settings, --override, the device
    device: torch.device  # where checkpoints are evaluated


def parse_script_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> ScriptArgs:
    args = parser.parse_args(argv)
    dataset = args.dataset or (QUICK_DATASET if args.quick else args.default_dataset)
    out = Path(args.out or f"results/{args.script_name}-{dataset}")
    try:
        overrides = parse_overrides([f"--{item}" for item in args.override], known_keys(args.config))
        device_overrides, device = device_settings(args.device)
    except UsageError as error:
        parser.error(str(error))
    overrides = {**(QUICK_OVERRIDES if args.quick else {}), **overrides, **device_overrides}
    return ScriptArgs(args, dataset, out, overrides, device)


def device_settings(device: str | None) -> tuple[dict, torch.device]:
    """(overrides, evaluation device) for --device. RecBole picks its GPU through gpu_id, which it writes to
    CUDA_VISIBLE_DEVICES; that is done here too, so that the chosen GPU is cuda:0 in this process."""
    if device is None:
        return {}, default_device()
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        return {"gpu_id": ""}, torch.device("cpu")
    kind, _, index = device.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise UsageError(f"--device {device!r}: use cpu, cuda or cuda:N (e.g. cuda:1)")
    os.environ["CUDA_VISIBLE_DEVICES"] = index or "0"
    return {"gpu_id": index or "0"}, torch.device("cuda")


def train_or_exit(parser: argparse.ArgumentParser, cells: Sequence, setup: ScriptArgs) -> list[dict]:
    """Run (or resume) the script's cells; exit with one line when none of them finished."""
    args = setup.args
    records = run_cells(cells, setup.out, args.config, show_progress=args.show_progress, keep_going=args.keep_going)
    if not records:
        parser.error(f"no run finished; see {setup.out / 'errors.log'}")
    return records


def write_slice_report(per_seed: Sequence[Mapping], table: Sequence[Mapping], shown: Sequence[Mapping],
                       plot_rows: Sequence[Mapping], metrics: Sequence[str], setup: ScriptArgs, name: str,
                       columns: Sequence[str], x: str, legend_title: str, title: str, plot_title: str) -> None:
    """The per-seed CSV, the mean ± std CSV (`table`) and Markdown (`shown`: the same rows, labelled
    for reading), and grouped bars of the first two metrics (x = `x`, one colour per `label`)."""
    write_csv(per_seed, setup.out / f"{name}_per_seed.csv")
    write_csv(table, setup.out / f"{name}.csv")
    quick = " (--quick smoke run)" if setup.args.quick else ""
    markdown = write_markdown(markdown_rows(shown, columns, metrics), setup.out / f"{name}.md", title=title + quick)
    plot_grouped_bars(plot_rows, x, [paper_name(m) for m in metrics[:2]], setup.out / f"{name}.png", hue="label",
                      legend_title=legend_title, title=plot_title)
    print(markdown.read_text(encoding="utf-8"))


def text_cache_override(dataset: str, overrides: Mapping, config_files: Sequence[str], cache_dir: str | None) -> dict:
    """{'text_cache': path} when `<cache_dir>/<dataset>-<encoder>.textemb.pt` exists for the encoder these
    settings use (issue core's cache, reused instead of re-encoding), else {}."""
    from m2rec.text import default_cache_path

    if not cache_dir or overrides.get("text_cache"):
        return {}
    encoder = overrides.get("text_encoder") or make_config("M2Rec", dataset, list(config_files), dict(overrides))["text_encoder"]
    path = Path(cache_dir) / default_cache_path(".", dataset, encoder).name
    return {"text_cache": str(path.resolve())} if path.is_file() else {}

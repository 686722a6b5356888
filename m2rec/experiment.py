"""Experiment harness: run many trainings, resume after an interruption, and tabulate mean ± std over seeds.

A *cell* is one training run, `Cell(label, model, dataset, overrides, seed)`. `run_cells` trains each
cell in this process through `m2rec.runner.make_config` / `run` (the protocol of DESIGN.md), and
appends its record to `<out_dir>/runs.jsonl` as soon as it finishes. A cell whose key (label, model,
dataset, overrides, seed) is already recorded there is not run again, so an interrupted experiment
resumes where it stopped. Each record holds the full overrides, the config files, the best valid and
the test metrics, the wall time and the device. Each cell's RecBole log goes to `<out_dir>/logs/` and
its best checkpoint to `<out_dir>/checkpoints/<cell>.pth` (M2Rec's text cache is shared there too).

    cells = [Cell("SASRec", "SASRec", "ml-1m", {}, seed) for seed in (2020, 2021, 2022)]
    rows = run_cells(cells, "results/demo")
    table = summarize(rows, by=("label",))          # test_hit@10, test_hit@10_std, ..., n
    write_markdown(table, "results/demo/table.md")

`plot_bars` and `plot_lines` draw the usual figures (matplotlib, Agg backend, no display needed).
"""
from __future__ import annotations

import csv
import gc
import hashlib
import json
import logging
import math
import re
import statistics
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import torch
from recbole.utils import init_logger
from recbole.utils.logger import RemoveColorFilter
from tqdm import tqdm

from m2rec.runner import make_config, run

RUNS_FILE = "runs.jsonl"
ERRORS_FILE = "errors.log"
SPLITS = ("test", "valid")


@dataclass
class Cell:
    label: str
    model: str
    dataset: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 2020

    def key(self) -> str:
        """What identifies a finished cell in runs.jsonl (JSON, keys sorted)."""
        return json.dumps({"label": self.label, "model": self.model, "dataset": self.dataset,
                           "overrides": self.overrides, "seed": self.seed}, sort_keys=True)

    def slug(self) -> str:
        """A file-name-safe name for this cell's log and checkpoint: label, dataset, seed, hash of the key."""
        digest = hashlib.sha1(self.key().encode("utf-8")).hexdigest()[:8]
        return re.sub(r"[^A-Za-z0-9._=-]+", "_", f"{self.label}-{self.dataset}-seed{self.seed}-{digest}")


def read_runs(out_dir: str | Path) -> list[dict]:
    """The records in `<out_dir>/runs.jsonl`, in the order they were written ([] when there are none)."""
    path = Path(out_dir) / RUNS_FILE
    if not path.is_file():
        return []
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number} is not valid JSON ({error.msg}); delete or fix that line "
                                 "and rerun (that cell will run again)") from None
    return rows


def _append_run(out_dir: Path, row: dict) -> None:
    with open(out_dir / RUNS_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()


def _describe_device(device: torch.device) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def run_cell(cell: Cell, out_dir: str | Path, config_files: Sequence[str] = (), show_progress: bool = False) -> dict:
    """Train and evaluate one cell; return its record (not written anywhere)."""
    out_dir = Path(out_dir)
    overrides = {"checkpoint_dir": str(out_dir / "checkpoints"), "show_progress": show_progress,
                 **cell.overrides, "seed": cell.seed}
    start = time.perf_counter()
    config = make_config(cell.model, cell.dataset, list(config_files), overrides)
    if not logging.getLogger().handlers:
        init_logger(config)  # RecBole's console and ./log handlers, once per process (as run() would)
    log_dir = out_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_dir / f"{cell.slug()}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s  %(message)s"))
    handler.addFilter(RemoveColorFilter())
    logging.getLogger().addHandler(handler)
    try:
        # named for the cell, not RecBole's <model>-<time to the second>: runs started together do not collide
        result = run(config, saved=True, checkpoint_name=f"{cell.slug()}.pth")
        wall = time.perf_counter() - start
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    checkpoint = Path(result["trainer"].saved_model_file)
    return {
        "key": cell.key(), "label": cell.label, "model": cell.model, "dataset": cell.dataset, "seed": cell.seed,
        "overrides": dict(cell.overrides), "config_files": list(config_files),
        "valid": {k: float(v) for k, v in result["best_valid_result"].items()},
        "test": {k: float(v) for k, v in result["test_result"].items()},
        "best_valid_score": float(result["best_valid_score"]), "checkpoint": str(checkpoint), "wall_s": round(wall, 1),
        "device": _describe_device(config["device"]), "finished": datetime.now().isoformat(timespec="seconds"),
    }


def run_cells(cells: Iterable[Cell], out_dir: str | Path, config_files: Sequence[str] = (), resume: bool = True,
              show_progress: bool = True, keep_going: bool = False) -> list[dict]:
    """Run every cell not yet recorded in `<out_dir>/runs.jsonl`; return the records of all `cells`.

    resume=False runs every cell again (new records are appended; the newest record of a key wins).
    keep_going=True writes a failing cell's traceback to `<out_dir>/errors.log` and goes on with the next
    cell (the failed cell is not recorded, so the next call retries it); otherwise the error propagates.
    show_progress is passed to RecBole (its bars over each epoch's batches); a bar over cells is always shown.
    """
    cells = list(cells)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done = {row["key"]: row for row in read_runs(out_dir)} if resume else {}
    bar = tqdm(cells, desc="cells", unit="cell")
    for cell in bar:
        if cell.key() in done:
            continue
        bar.set_postfix_str(f"{cell.label} seed {cell.seed}")
        try:
            row = run_cell(cell, out_dir, config_files, show_progress)
        except Exception:
            if not keep_going:
                raise
            with open(out_dir / ERRORS_FILE, "a", encoding="utf-8") as f:
                f.write(f"--- {datetime.now().isoformat(timespec='seconds')} {cell.key()}\n{traceback.format_exc()}\n")
            continue
        finally:
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        _append_run(out_dir, row)
        done[row["key"]] = row
    return [done[cell.key()] for cell in cells if cell.key() in done]


def _field(row: Mapping, key: str) -> Any:
    """A record's value for `key`: a top-level field, else an override."""
    return row[key] if key in row else row["overrides"].get(key)


def summarize(rows: Sequence[Mapping], by: Sequence[str] = ("label",), metrics: Sequence[str] | None = None) -> list[dict]:
    """Group records by the fields `by` (top-level fields or override keys), in first-seen order.

    Each group gives its `by` values, `n` (records, i.e. seeds), and for every metric m of both splits
    `<split>_<m>` (mean) and `<split>_<m>_std` (sample standard deviation; 0.0 when n = 1), plus the
    mean `wall_s`. metrics defaults to the metrics of the first record's test result.
    """
    if not rows:
        return []
    metrics = list(metrics or rows[0]["test"])
    groups: dict[tuple, list[Mapping]] = {}
    for row in rows:
        groups.setdefault(tuple(_field(row, key) for key in by), []).append(row)
    table = []
    for values, members in groups.items():
        out: dict[str, Any] = dict(zip(by, values))
        out["n"] = len(members)
        for split in SPLITS:
            for metric in metrics:
                sample = [member[split][metric] for member in members]
                out[f"{split}_{metric}"] = statistics.fmean(sample)
                out[f"{split}_{metric}_std"] = statistics.stdev(sample) if len(sample) > 1 else 0.0
        out["wall_s"] = statistics.fmean(member["wall_s"] for member in members)
        table.append(out)
    return table


def mean_std(mean: float, std: float, n: int, digits: int = 4) -> str:
    """'0.3224 ± 0.0012' (or '0.3224' for a single run)."""
    if n > 1:
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def _columns(rows: Sequence[Mapping], columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _cell_text(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def write_csv(rows: Sequence[Mapping], path: str | Path, columns: Sequence[str] | None = None) -> Path:
    """Rows as CSV (floats at full precision, dicts and lists as JSON); columns default to all keys."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = _columns(rows, columns)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in columns])
    return path


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return value


def write_markdown(rows: Sequence[Mapping], path: str | Path, columns: Sequence[str] | None = None,
                   title: str | None = None, digits: int = 4) -> Path:
    """Rows as a Markdown (GitHub) table, floats with `digits` decimals, an optional '# title' line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = _columns(rows, columns)
    lines = [f"# {title}", ""] if title else []
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        cells = (_cell_text(row.get(c), digits).replace("|", "\\|") for c in columns)
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_bars(rows: Sequence[Mapping], x: str, y: str, path: str | Path, yerr: str | None = None,
              ylabel: str | None = None, title: str | None = None) -> Path:
    """One bar per row: row[x] on the axis, row[y] high, ±row[yerr] error bars when given."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.8 * len(rows)), 3.2))
    labels = [str(row[x]) for row in rows]
    ax.bar(labels, [row[y] for row in rows], yerr=[row[yerr] for row in rows] if yerr else None, capsize=3)
    ax.set_ylabel(ylabel or y)
    ax.set_title(title or "")
    ax.tick_params(axis="x", rotation=45)
    return _save(plt, fig, path)


def plot_lines(rows: Sequence[Mapping], x: str, y: str, path: str | Path, hue: str | None = None,
               yerr: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
               title: str | None = None) -> Path:
    """row[y] against row[x], one line per value of row[hue] (one line when hue is None)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    lines: dict[Any, list[Mapping]] = {}
    for row in rows:
        lines.setdefault(row[hue] if hue else None, []).append(row)
    for name, members in lines.items():
        members = sorted(members, key=lambda r: r[x])
        ax.errorbar([r[x] for r in members], [r[y] for r in members],
                    yerr=[r[yerr] for r in members] if yerr else None, marker="o", capsize=3,
                    label=None if name is None else str(name))
    if hue:  # beside the axes: a legend inside would hide lines that fill the panel
        ax.legend(title=hue, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    ax.set_title(title or "")
    return _save(plt, fig, path, tight_layout=not hue)


def _save(plt, fig, path: str | Path, tight_layout: bool = True) -> Path:
    """tight_layout=False for a legend beside the axes (tight_layout would shrink the axes to fit it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight_layout:
        fig.tight_layout()
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return path

#!/usr/bin/env python
"""Table II of the paper: HR@10, NDCG@10 and MRR@10 of M2Rec and its eleven baselines on one dataset,
mean ± std over seeds, beside the paper's figures and our relative difference from them.

    python scripts/table2.py --dataset ml-1m --seeds 2020 2021 2022 --out results/table2-ml-1m
    python scripts/table2.py --dataset nyc --models M2Rec Mamba4Rec SASRec --override train_batch_size=1024
    python scripts/table2.py --quick --models SASRec LRURec --seeds 1 2 --out /tmp/table2-quick

Writes <out>/table2.csv (numbers) and <out>/table2.md (formatted). Every (model, seed) run is recorded in
<out>/runs.jsonl as soon as it ends (m2rec.experiment), and a recorded run is not repeated, so an
interrupted table resumes. --quick is a smoke run for a CPU: ML-100K unless --dataset is given, one
epoch, L = 20 and tiny widths; its numbers mean nothing. Runs from a checkout without installing m2rec.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from m2rec.experiment import Cell, mean_std, run_cells, summarize, write_csv, write_markdown
from m2rec.runner import UsageError, known_keys, parse_overrides

MODELS = ("BPR", "Caser", "NARM", "GRU4Rec", "SASRec", "BERT4Rec", "LRURec", "SRGNN", "FEARec",
          "Mamba4Rec", "RecMamba", "M2Rec")  # Table II's columns, in its order
METRICS = (("hit@10", "HR@10"), ("ndcg@10", "NDCG@10"), ("mrr@10", "MRR@10"))  # RecBole's name, the paper's

# Table II of the paper (arXiv 2505.04445): one value per model of MODELS, in that order.
_TABLE2 = {
    "ml-1m": {
        "hit@10": (0.1702, 0.2399, 0.2735, 0.2934, 0.2977, 0.2958, 0.3057, 0.2997, 0.2278, 0.3121, 0.3097, 0.3224),
        "ndcg@10": (0.0891, 0.1283, 0.1506, 0.1642, 0.1687, 0.1674, 0.1772, 0.1683, 0.1117, 0.1822, 0.1805, 0.1867),
        "mrr@10": (0.0645, 0.0944, 0.1132, 0.1249, 0.1294, 0.1275, 0.1380, 0.1256, 0.0763, 0.1425, 0.1389, 0.1455),
    },
    "nyc": {  # "New York"
        "hit@10": (0.0285, 0.0314, 0.0336, 0.0355, 0.0360, 0.0367, 0.0392, 0.0402, 0.0507, 0.0544, 0.0542, 0.0578),
        "ndcg@10": (0.0154, 0.0176, 0.0218, 0.0214, 0.0223, 0.0225, 0.0219, 0.0228, 0.0260, 0.0278, 0.0265, 0.0294),
        "mrr@10": (0.0102, 0.0124, 0.0132, 0.0138, 0.0140, 0.0142, 0.0136, 0.0139, 0.0186, 0.0198, 0.0187, 0.0210),
    },
    "california": {
        "hit@10": (0.0277, 0.0304, 0.0324, 0.0326, 0.0335, 0.0331, 0.0340, 0.0338, 0.0455, 0.0505, 0.0514, 0.0543),
        "ndcg@10": (0.0150, 0.0155, 0.0162, 0.0168, 0.0171, 0.0169, 0.0174, 0.0173, 0.0209, 0.0235, 0.0236, 0.0253),
        "mrr@10": (0.0106, 0.0115, 0.0128, 0.0132, 0.0136, 0.0132, 0.0136, 0.0138, 0.0136, 0.0154, 0.0159, 0.0178),
    },
    "texas": {
        "hit@10": (0.0280, 0.0325, 0.0334, 0.0350, 0.0352, 0.0354, 0.0356, 0.0355, 0.0422, 0.0450, 0.0446, 0.0472),
        "ndcg@10": (0.0147, 0.0154, 0.0163, 0.0172, 0.0178, 0.0180, 0.0179, 0.0181, 0.0198, 0.0203, 0.0183, 0.0225),
        "mrr@10": (0.0082, 0.0091, 0.0108, 0.0119, 0.0123, 0.0125, 0.0126, 0.0130, 0.0132, 0.0140, 0.0137, 0.0152),
    },
}
PAPER = {dataset: {model: {metric: values[i] for metric, values in columns.items()} for i, model in enumerate(MODELS)}
         for dataset, columns in _TABLE2.items()}

QUICK_DATASET = "ml-100k"
QUICK_OVERRIDES = {  # every model on a 2-core CPU in seconds; keys a model does not read are ignored by it
    "epochs": 1, "stopping_step": 1, "MAX_ITEM_LIST_LENGTH": 20, "hidden_size": 16, "embedding_size": 16,
    "inner_size": 32, "d_state": 8, "train_batch_size": 512, "eval_batch_size": 4096,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dataset", help=f"dataset name (default ml-1m; {QUICK_DATASET} with --quick)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), metavar="NAME",
                        help="models to run (default: all twelve of Table II)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[2020, 2021, 2022], metavar="SEED")
    parser.add_argument("--out", help="output folder (default results/table2-<dataset>)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for every run, e.g. --override train_batch_size=1024 (repeatable)")
    parser.add_argument("--config", action="append", default=[], metavar="FILE", help="extra YAML config (repeatable)")
    parser.add_argument("--quick", action="store_true", help="CPU smoke run: one epoch, L = 20, tiny widths")
    parser.add_argument("--keep-going", action="store_true",
                        help="log a failing run to <out>/errors.log and go on with the others")
    parser.add_argument("--show-progress", action="store_true", help="RecBole's progress bars within each epoch")
    return parser


def _relative(ours: float, paper: float | None) -> float | None:
    return None if paper is None else (ours - paper) / paper


def table_rows(summary: list[dict], dataset: str, models: list[str]) -> list[dict]:
    """Numeric rows, one per model in `models` order: our mean and std, the paper's value, the relative difference."""
    by_model = {row["model"]: row for row in summary}
    rows = []
    for model in models:
        if model not in by_model:
            continue
        ours, paper = by_model[model], PAPER.get(dataset, {}).get(model, {})
        row = {"model": model, "n": ours["n"]}
        for metric, name in METRICS:
            row[name] = ours[f"test_{metric}"]
            row[f"{name}_std"] = ours[f"test_{metric}_std"]
        for metric, name in METRICS:
            row[f"paper_{name}"] = paper.get(metric)
        for metric, name in METRICS:
            row[f"rel_diff_{name}"] = _relative(row[name], paper.get(metric))
        rows.append(row)
    return rows


def markdown_rows(rows: list[dict]) -> list[dict]:
    """The same rows as text: 'mean ± std', the paper's value, and the relative difference in %."""
    out = []
    for row in rows:
        text = {"model": row["model"], "seeds": str(row["n"])}
        for _, name in METRICS:
            text[name] = mean_std(row[name], row[f"{name}_std"], row["n"])
        for _, name in METRICS:
            paper = row[f"paper_{name}"]
            text[f"paper {name}"] = "" if paper is None else f"{paper:.4f}"
        for _, name in METRICS:
            diff = row[f"rel_diff_{name}"]
            text[f"Δ {name}"] = "" if diff is None else f"{100 * diff:+.1f}%"
        out.append(text)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    dataset = args.dataset or (QUICK_DATASET if args.quick else "ml-1m")
    out = Path(args.out or f"results/table2-{dataset}")
    try:
        overrides = parse_overrides([f"--{item}" for item in args.override], known_keys(args.config))
    except UsageError as error:
        parser.error(str(error))
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"--models: {unknown} are not in Table II; choose from {list(MODELS)}")
    overrides = {**(QUICK_OVERRIDES if args.quick else {}), **overrides}

    cells = [Cell(model, model, dataset, overrides, seed) for model in args.models for seed in args.seeds]
    records = run_cells(cells, out, args.config, show_progress=args.show_progress, keep_going=args.keep_going)
    rows = table_rows(summarize(records, by=("model",)), dataset, args.models)
    write_csv(rows, out / "table2.csv")
    title = f"Table II on {dataset}: test HR/NDCG/MRR@10, mean ± std over seeds {args.seeds}"
    if args.quick:
        title += " (--quick smoke run: not comparable to the paper)"
    markdown = write_markdown(markdown_rows(rows), out / "table2.md", title=title)
    print(markdown.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

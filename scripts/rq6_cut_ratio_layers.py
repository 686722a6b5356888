#!/usr/bin/env python
"""RQ6 of the paper (Sec. IV-G, Table V): M2Rec's test metrics against the cut ratio θ of the Fourier
filter and against the number of Mamba (AFFM) layers (the paper shows Texas).

    python scripts/rq6_cut_ratio_layers.py --dataset texas --seeds 2020 2021 2022 --device cuda
    python scripts/rq6_cut_ratio_layers.py --dataset ml-1m --cut-ratios 0.05 0.1 0.2 1.0 --layers 1 2
    python scripts/rq6_cut_ratio_layers.py --quick --seeds 1

Two one-factor sweeps around a fixed point (--fixed-cut-ratio, default 0.1, and --fixed-layers,
default 1: the paper's best): θ over --cut-ratios (default 0.1 0.3 0.5 0.7 0.9) at the fixed number of
layers, and the layers over --layers (default 1 to 5) at the fixed θ. The fixed point belongs to both
sweeps and is trained once. A --cut-ratios value is read as YAML, so a non-numeric value the model
accepts (e.g. `learn`, where m2rec.filter offers it) runs too; it appears in the tables, not on the line.

Writes <out>/rq6_cut_ratio_layers.csv (both sweeps, mean and std over seeds; the paper's Table V beside
ours on Texas), rq6_cut_ratio_layers.md, rq6_cut_ratio.png and rq6_layers.png (one line per metric).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

import yaml

from m2rec import analysis
from m2rec.experiment import Cell, plot_lines, summarize, write_csv, write_markdown

NAME = "rq6_cut_ratio_layers"
CUT_RATIOS = (0.1, 0.3, 0.5, 0.7, 0.9)
LAYERS = (1, 2, 3, 4, 5)
# Table V of the paper (Texas), ×1e-2; its two rows of numbers are identical in the paper as published.
_TABLE5 = {"hit@10": (4.72, 4.69, 4.56, 4.58, 4.59), "ndcg@10": (2.25, 2.18, 2.17, 2.18, 2.18),
           "mrr@10": (1.52, 1.44, 1.45, 1.47, 1.46)}
PAPER = {"texas": {
    "cut_ratio": {theta: {m: v[i] / 100 for m, v in _TABLE5.items()} for i, theta in enumerate(CUT_RATIOS)},
    "num_layers": {n: {m: v[i] / 100 for m, v in _TABLE5.items()} for i, n in enumerate(LAYERS)},
}}
SWEEPS = ("cut_ratio", "num_layers")


def build_parser():
    parser = analysis.script_parser(__doc__, "texas", NAME)
    parser.add_argument("--cut-ratios", nargs="+", type=yaml.safe_load, default=list(CUT_RATIOS), metavar="θ",
                        help="θ values of the first sweep (default 0.1 0.3 0.5 0.7 0.9)")
    parser.add_argument("--layers", nargs="+", type=int, default=list(LAYERS), metavar="N",
                        help="numbers of layers of the second sweep (default 1 2 3 4 5)")
    parser.add_argument("--fixed-cut-ratio", type=yaml.safe_load, default=0.1, metavar="θ",
                        help="θ while the layers vary (default 0.1)")
    parser.add_argument("--fixed-layers", type=int, default=1, metavar="N",
                        help="number of layers while θ varies (default 1)")
    return parser


def sweep_cells(dataset: str, overrides: dict, seeds, cut_ratios, layers, fixed_cut_ratio, fixed_layers) -> list[tuple[str, Cell]]:
    """(sweep, cell) pairs; a cell's label is 'M2Rec' in both sweeps, so their shared point has one key."""
    points = [("cut_ratio", {"cut_ratio": theta, "num_layers": fixed_layers}) for theta in cut_ratios]
    points += [("num_layers", {"cut_ratio": fixed_cut_ratio, "num_layers": n}) for n in layers]
    return [(sweep, Cell("M2Rec", "M2Rec", dataset, {**overrides, **point}, seed))
            for sweep, point in points for seed in seeds]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    if any(n < 1 for n in [*args.layers, args.fixed_layers]):
        parser.error("--layers and --fixed-layers must be >= 1")
    text = analysis.text_cache_override(setup.dataset, setup.overrides, args.config, args.text_cache_dir)
    pairs = sweep_cells(setup.dataset, {**setup.overrides, **text}, args.seeds, args.cut_ratios, args.layers,
                        args.fixed_cut_ratio, args.fixed_layers)
    records = analysis.train_or_exit(parser, [cell for _, cell in pairs], setup)
    by_key = {record["key"]: record for record in records}
    metrics = list(records[0]["test"])
    paper = PAPER.get(setup.dataset, {})
    table = []
    for sweep in SWEEPS:
        chosen = [by_key[cell.key()] for name, cell in pairs if name == sweep and cell.key() in by_key]
        for row in analysis.summary_rows(summarize(chosen, by=SWEEPS), SWEEPS, metrics):
            reference = paper.get(sweep, {}).get(row[sweep], {})
            table.append({"sweep": sweep, "value": row[sweep], **row,
                          **{f"paper_{analysis.paper_name(m)}": reference.get(m) for m in metrics}})
    write_csv(table, setup.out / f"{NAME}.csv")
    title = (f"RQ6 (Table V) on {setup.dataset}: M2Rec's test metrics against θ (at {args.fixed_layers} layer(s)) "
             f"and the number of layers (at θ = {args.fixed_cut_ratio}), mean ± std over seeds {args.seeds}"
             + (" (--quick smoke run)" if args.quick else ""))
    text_rows = analysis.markdown_rows([{**row, "value": str(row["value"])} for row in table],
                                       ("sweep", "value", "seeds"), metrics)
    if paper:
        for text_row, row in zip(text_rows, table):
            text_row.update({f"paper {analysis.paper_name(m)}": row[f"paper_{analysis.paper_name(m)}"] for m in metrics})
    markdown = write_markdown(text_rows, setup.out / f"{NAME}.md", title=title)
    for sweep, figure, xlabel in (("cut_ratio", "rq6_cut_ratio.png", "cut ratio θ"),
                                  ("num_layers", "rq6_layers.png", "number of Mamba layers")):
        points = [{"x": row["value"], "metric": analysis.paper_name(m), "value": row[analysis.paper_name(m)],
                   "std": row[f"{analysis.paper_name(m)}_std"]}
                  for row in table if row["sweep"] == sweep and isinstance(row["value"], (int, float))
                  for m in metrics]
        plot_lines(points, "x", "value", setup.out / figure, hue="metric", yerr="std", xlabel=xlabel,
                   ylabel="test metric", title=f"RQ6 (Table V) on {setup.dataset}")
    print(markdown.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

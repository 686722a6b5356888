#!/usr/bin/env python
"""RQ2 of the paper (Sec. IV-C, Fig. 3): test accuracy of M2Rec and baselines by sequence-length group.

    python scripts/rq2_length_groups.py --dataset ml-1m --seeds 2020 2021 2022 --device cuda
    python scripts/rq2_length_groups.py --dataset ml-1m --grouping disjoint --edges 50 100 200 300
    python scripts/rq2_length_groups.py --quick --seeds 1

The paper: "we divide the data into three groups based on sequence length: sequences with less than
100 items, sequences with less than 200 items and sequences with less than 300 items". Read as
written, the groups are nested (--grouping cumulative, the default): "< 100" is inside "< 200",
which is inside "< 300", and users with 300 or more items are in none. --grouping disjoint gives
[0, 100), [100, 200), [200, 300) and ">= 300" instead. A user's length is the number of items before
their test item, untruncated (the model reads the last MAX_ITEM_LIST_LENGTH of them); each group's
size is reported next to its metrics, and the "all" row is RecBole's own test result.

Writes <out>/rq2_length_groups.csv (mean and std over seeds), rq2_length_groups_per_seed.csv,
rq2_length_groups.md and rq2_length_groups.png (grouped bars: groups on the axis, one bar per model).
Training runs are recorded in <out>/runs.jsonl and not repeated (m2rec.experiment); the checkpoints
are evaluated again per user on every call (m2rec.analysis).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

import numpy as np

from m2rec import analysis
from m2rec.experiment import Cell

NAME = "rq2_length_groups"
MODELS = ("M2Rec", "Mamba4Rec", "BERT4Rec", "FEARec")  # Fig. 3: Mamba-, Transformer- and frequency-based
EDGES = (100, 200, 300)
QUICK_EDGES = (10, 20, 30)  # --quick keeps users with at most 40 interactions


def build_parser():
    parser = analysis.script_parser(__doc__, "ml-1m", NAME)
    parser.add_argument("--models", nargs="+", default=list(MODELS), metavar="NAME",
                        help=f"models to compare (default: {' '.join(MODELS)})")
    parser.add_argument("--edges", nargs="+", type=int, metavar="N",
                        help=f"group edges in items (default {' '.join(map(str, EDGES))}; "
                             f"{' '.join(map(str, QUICK_EDGES))} with --quick)")
    parser.add_argument("--grouping", choices=analysis.GROUPINGS, default="cumulative",
                        help="cumulative: < e1, < e2, ... nested as in the paper (default); disjoint: [0, e1), [e1, e2), ..., >= last")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    edges = args.edges or (QUICK_EDGES if args.quick else EDGES)
    try:
        analysis.length_groups(np.zeros(0), edges, args.grouping)
    except ValueError as error:
        parser.error(f"--edges: {error}")
    text = analysis.text_cache_override(setup.dataset, setup.overrides, args.config, args.text_cache_dir)
    cells = [Cell(model, model, setup.dataset, {**setup.overrides, **(text if model == "M2Rec" else {})}, seed)
             for model in args.models for seed in args.seeds]
    records = analysis.train_or_exit(parser, cells, setup)

    def slicer(data, users, targets):
        return {"all": np.ones(len(users), dtype=bool),
                **analysis.length_groups(data.history_length[users], edges, args.grouping)}

    per_seed = analysis.evaluate_slices(records, slicer, setup.device)
    metrics = list(records[0]["test"])
    table = analysis.mean_over_seeds(per_seed, ("label", "group"), metrics)
    sized = [{**row, "group": f"{row['group']}\n({row['users']} users)"} for row in table]
    analysis.write_slice_report(
        per_seed, table, table, sized, metrics, setup, NAME, ("group", "label", "users"), "group", "model",
        f"RQ2 (Fig. 3) on {setup.dataset}: test metrics by history length ({args.grouping} groups), "
        f"mean ± std over seeds {args.seeds}", f"RQ2 (Fig. 3) on {setup.dataset}: test users by history length")
    return 0


if __name__ == "__main__":
    sys.exit(main())

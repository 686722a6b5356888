#!/usr/bin/env python
"""Cold start (issue 6, beyond the paper): does M2Rec's semantic branch (the frozen item-text embeddings of
Sec. III-C, fused by the gate of Eq. 16) help for rarely seen items and short histories?

    python scripts/cold_start.py --dataset amazon-beauty --seeds 2020 2021 2022 --device cuda
    python scripts/cold_start.py --dataset ml-1m --max-item-count 10 --max-history 20
    python scripts/cold_start.py --quick --seeds 1

Trains M2Rec with and without its semantic branch (fusion: none; everything else equal) and evaluates
each checkpoint per test user, sliced: all users; users whose test item has at most --max-item-count
interactions in the training part of the data (cold items; everything before each user's validation
item counts as training) and the rest (warm items); users with at most --max-history items before
their test item (cold users) and the rest (warm users). Each slice's size is reported.

Writes <out>/cold_start.csv (mean and std over seeds), cold_start_per_seed.csv, cold_start.md and
cold_start.png (grouped bars: slices on the axis, one bar per variant).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from m2rec import analysis
from m2rec.experiment import Cell

NAME = "cold_start"
VARIANTS = {"M2Rec": {}, "M2Rec w/o text (fusion: none)": {"fusion": "none"}}


def build_parser():
    parser = analysis.script_parser(__doc__, "amazon-beauty", NAME)
    parser.add_argument("--max-item-count", type=int, default=5, metavar="N",
                        help="a test item with at most N training interactions is cold (default 5)")
    parser.add_argument("--max-history", type=int, default=5, metavar="N",
                        help="a user with at most N items before the test item is cold (default 5)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    if args.max_item_count < 0 or args.max_history < 0:
        parser.error("--max-item-count and --max-history must be >= 0")
    text = analysis.text_cache_override(setup.dataset, setup.overrides, args.config, args.text_cache_dir)
    cells = [Cell(label, "M2Rec", setup.dataset, {**setup.overrides, **(text if not extra else {}), **extra}, seed)
             for label, extra in VARIANTS.items() for seed in args.seeds]
    records = analysis.train_or_exit(parser, cells, setup)

    def slicer(data, users, targets):
        return analysis.cold_start_groups(data.history_length[users], data.train_item_count[targets],
                                          args.max_item_count, args.max_history)

    per_seed = analysis.evaluate_slices(records, slicer, setup.device)
    metrics = list(records[0]["test"])
    table = analysis.mean_over_seeds(per_seed, ("label", "group"), metrics)
    sized = [{**row, "group": f"{row['group']}\n({row['users']} users)"} for row in table]
    analysis.write_slice_report(
        per_seed, table, table, sized, metrics, setup, NAME, ("group", "label", "users"), "group", "variant",
        f"Cold start on {setup.dataset}: M2Rec with and without its semantic branch, test metrics by slice, "
        f"mean ± std over seeds {args.seeds}", f"Cold start on {setup.dataset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

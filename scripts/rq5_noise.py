#!/usr/bin/env python
"""RQ5 of the paper (Sec. IV-F, Fig. 7): robustness of M2Rec, Mamba4Rec and BERT4Rec to Gaussian noise
added to the item embeddings at prediction time (0 %, 10 % and 20 % of the embedding std).

    python scripts/rq5_noise.py --dataset texas --seeds 2020 2021 2022 --device cuda
    python scripts/rq5_noise.py --dataset texas --levels 0 0.1 0.2 0.5 --noise-seed 7
    python scripts/rq5_noise.py --quick --seeds 1

Each model is trained once per seed, without noise. Its best checkpoint is then evaluated on the test
split at every level p: N(0, (p·σ)²) is added to the item embedding table (the rows of real items;
σ = their std), one draw from a generator seeded with --noise-seed, so every model, seed and rerun
sees a fixed noise. The three models embed the input sequence and score the candidates with that same
table, so the noise reaches both ("item embeddings at prediction time"); the table is restored after
each evaluation. Level 0 is RecBole's own test result (checked).

Writes <out>/rq5_noise.csv (mean and std over seeds), rq5_noise_per_seed.csv, rq5_noise.md and
rq5_noise.png (grouped bars: noise levels on the axis, one bar per model).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

import numpy as np

from m2rec import analysis
from m2rec.experiment import Cell

NAME = "rq5_noise"
MODELS = ("M2Rec", "Mamba4Rec", "BERT4Rec")  # Fig. 7
LEVELS = (0.0, 0.1, 0.2)  # fractions of the embedding std


def build_parser():
    parser = analysis.script_parser(__doc__, "texas", NAME)
    parser.add_argument("--models", nargs="+", default=list(MODELS), metavar="NAME",
                        help=f"models to compare (default: {' '.join(MODELS)})")
    parser.add_argument("--levels", nargs="+", type=float, default=list(LEVELS), metavar="P",
                        help="noise std as a fraction of the item embeddings' std (default 0 0.1 0.2)")
    parser.add_argument("--noise-seed", type=int, default=0, help="seed of the noise draw (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    if any(level < 0 for level in args.levels):
        parser.error(f"--levels must be >= 0 (0.1 = 10 % of the embedding std), got {args.levels}")
    text = analysis.text_cache_override(setup.dataset, setup.overrides, args.config, args.text_cache_dir)
    cells = [Cell(model, model, setup.dataset, {**setup.overrides, **(text if model == "M2Rec" else {})}, seed)
             for model in args.models for seed in args.seeds]
    records = analysis.train_or_exit(parser, cells, setup)

    def everyone(data, users, targets):
        return {"all": np.ones(len(users), dtype=bool)}

    per_seed = analysis.evaluate_slices(records, everyone, setup.device, args.levels, args.noise_seed)
    metrics = list(records[0]["test"])
    table = analysis.mean_over_seeds(per_seed, ("label", "noise"), metrics)
    percent = [{**row, "noise": f"{100 * row['noise']:g} %"} for row in table]
    analysis.write_slice_report(
        per_seed, table, percent, percent, metrics, setup, NAME, ("label", "noise", "users"), "noise", "model",
        f"RQ5 (Fig. 7) on {setup.dataset}: test metrics with Gaussian noise on the item embeddings "
        f"(noise seed {args.noise_seed}), mean ± std over seeds {args.seeds}",
        f"RQ5 (Fig. 7) on {setup.dataset}: noise on the item embeddings (% of their std)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

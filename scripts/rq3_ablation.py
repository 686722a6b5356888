#!/usr/bin/env python
"""RQ3 of the paper (Sec. IV-D, Fig. 4): ablation of M2Rec's components (the paper shows Texas).

    python scripts/rq3_ablation.py --dataset texas --seeds 2020 2021 2022 --device cuda
    python scripts/rq3_ablation.py --dataset ml-1m --variants M2Rec "w/o GM" "w/o AFFT"
    python scripts/rq3_ablation.py --quick --seeds 1

Every variant is M2Rec with one config value changed (configs/model/M2Rec.yaml):
    M2Rec      the defaults
    w/o GM     fusion: none              no gate and no semantic (text) branch
    rp Con     fusion: concat            the gate replaced by Linear([E(l); E(m)])
    sum        fusion: sum               the gate replaced by Linear(E(l) + E(m))
    w/o Ada    filter_adaptive: false    fixed low-pass mask, no learnable W ("standard FFT")
    w/o AFFT   filter_position: none     no Fourier filter

Writes <out>/rq3_ablation.csv (test metrics, mean and std over seeds), rq3_ablation.md and
rq3_ablation.png (one panel per metric, one bar per variant). Runs are recorded in <out>/runs.jsonl
and not repeated (m2rec.experiment).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from m2rec import analysis
from m2rec.experiment import Cell, summarize, write_csv, write_markdown

NAME = "rq3_ablation"
VARIANTS = {  # Fig. 4's bars, in its order
    "M2Rec": {},
    "w/o GM": {"fusion": "none"},
    "rp Con": {"fusion": "concat"},
    "sum": {"fusion": "sum"},
    "w/o Ada": {"filter_adaptive": False},
    "w/o AFFT": {"filter_position": "none"},
}


def build_parser():
    parser = analysis.script_parser(__doc__, "texas", NAME)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), metavar="NAME",
                        help=f"variants to run (default all: {', '.join(VARIANTS)})")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"--variants: {unknown} are not Fig. 4 variants; choose from {list(VARIANTS)}")
    text = analysis.text_cache_override(setup.dataset, setup.overrides, args.config, args.text_cache_dir)
    cells = [Cell(variant, "M2Rec", setup.dataset, {**setup.overrides, **text, **VARIANTS[variant]}, seed)
             for variant in args.variants for seed in args.seeds]
    records = analysis.train_or_exit(parser, cells, setup)
    metrics = list(records[0]["test"])
    table = analysis.summary_rows(summarize(records, by=("label",)), ("label",), metrics)
    write_csv(table, setup.out / f"{NAME}.csv")
    title = (f"RQ3 (Fig. 4) on {setup.dataset}: ablation of M2Rec, test metrics, mean ± std over seeds {args.seeds}"
             + (" (--quick smoke run)" if args.quick else ""))
    markdown = write_markdown(analysis.markdown_rows(table, ("label", "seeds"), metrics),
                              setup.out / f"{NAME}.md", title=title)
    analysis.plot_grouped_bars(table, "label", [analysis.paper_name(m) for m in metrics], setup.out / f"{NAME}.png",
                               xlabel="variant", title=f"RQ3 (Fig. 4) on {setup.dataset}: ablation of M2Rec")
    print(markdown.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

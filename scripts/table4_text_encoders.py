#!/usr/bin/env python
"""Table IV of the paper: M2Rec's test metrics with different text encoders for the item-text embeddings
(the paper: BGE-1.5, GPT-3.5 and Llama-3.1 on New York).

    python scripts/table4_text_encoders.py --dataset nyc --encoders /models/bge-large-en-v1.5 all-MiniLM-L6-v2
    python scripts/table4_text_encoders.py --dataset ml-1m --encoders all-MiniLM-L6-v2 BAAI/bge-large-en-v1.5
    python scripts/table4_text_encoders.py --quick --seeds 1

Each --encoders entry is a sentence-transformers model: a local folder (saved with
SentenceTransformer.save) or a name (downloaded by sentence-transformers, which needs network;
all-MiniLM-L6-v2 ships offline). M2Rec is rerun with `text_encoder` set to each. An encoder's cache of
item-text embeddings is reused, not rebuilt, when --text-cache-dir holds it
(<dir>/<dataset>-<encoder>.textemb.pt, the name training and `python -m m2rec.text build` give it);
otherwise the first run builds it under <out>/checkpoints/text and the other seeds reuse it.

Writes <out>/table4_text_encoders.csv (mean and std over seeds), table4_text_encoders.md (with the
paper's figures on nyc) and table4_text_encoders.png (one panel per metric, one bar per encoder).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

from m2rec import analysis
from m2rec.experiment import Cell, summarize, write_csv, write_markdown

NAME = "table4_text_encoders"
ENCODERS = ("all-MiniLM-L6-v2",)  # the offline default; the paper's BGE needs a local folder or network
# Table IV of the paper (New York), ×1e-2.
PAPER = {"nyc": {"BGE-1.5 (paper)": {"hit@10": 0.0578, "ndcg@10": 0.0294, "mrr@10": 0.0210},
                 "GPT-3.5 (paper)": {"hit@10": 0.0568, "ndcg@10": 0.0275, "mrr@10": 0.0197},
                 "Llama-3.1 (paper)": {"hit@10": 0.0558, "ndcg@10": 0.0271, "mrr@10": 0.0195}}}


def build_parser():
    parser = analysis.script_parser(__doc__, "nyc", NAME)
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS), metavar="MODEL",
                        help="sentence-transformers models: local folders or names (default: all-MiniLM-L6-v2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    if "text_encoder" in setup.overrides:
        parser.error("--override text_encoder=... conflicts with --encoders; list the encoders there")
    cells = []
    for encoder in args.encoders:
        overrides = {**setup.overrides, "text_encoder": encoder}
        overrides.update(analysis.text_cache_override(setup.dataset, overrides, args.config, args.text_cache_dir))
        cells += [Cell(encoder, "M2Rec", setup.dataset, overrides, seed) for seed in args.seeds]
    records = analysis.train_or_exit(parser, cells, setup)
    metrics = list(records[0]["test"])
    table = analysis.summary_rows(summarize(records, by=("label",)), ("label",), metrics)
    for row in table:
        row["text_cache"] = next(r["overrides"].get("text_cache", "built under <out>/checkpoints/text")
                                 for r in records if r["label"] == row["label"])
    write_csv(table, setup.out / f"{NAME}.csv")
    text_rows = analysis.markdown_rows(table, ("label", "seeds"), metrics)
    for name, values in PAPER.get(setup.dataset, {}).items():
        text_rows.append({"label": name, "seeds": "", **{analysis.paper_name(m): f"{values[m]:.4f}" if m in values else "" for m in metrics}})
    title = (f"Table IV on {setup.dataset}: M2Rec's test metrics by text encoder, mean ± std over seeds {args.seeds}"
             + (" (--quick smoke run)" if args.quick else ""))
    markdown = write_markdown(text_rows, setup.out / f"{NAME}.md", title=title)
    short = [{**row, "label": Path(row["label"]).name if Path(row["label"]).expanduser().is_dir() else row["label"]}
             for row in table]  # a local folder by its name
    analysis.plot_grouped_bars(short, "label", [analysis.paper_name(m) for m in metrics], setup.out / f"{NAME}.png",
                               xlabel="text encoder", title=f"Table IV on {setup.dataset}: text encoders")
    print(markdown.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

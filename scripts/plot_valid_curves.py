"""Validation score after each epoch, read from RecBole training logs, one line per log.

    python scripts/plot_valid_curves.py docs/logs/ml-1m_*.log --out docs/figures/ml-1m-valid-ndcg.png

RecBole logs `epoch N evaluating [time: ..., valid_score: X]` after every validation; the label of a
line is the log's file name without `.log`, or the matching --label.
"""
import argparse
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EVALUATION = re.compile(r"epoch (\d+) evaluating \[.*valid_score: ([0-9.]+)\]")


def valid_curve(log: Path) -> list[tuple[int, float]]:
    """(epoch, valid_score) pairs in the order the log holds them."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return [(int(epoch), float(score)) for epoch, score in EVALUATION.findall(text)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--metric", default="NDCG@10", help="the valid_metric of the runs, for the axis label")
    parser.add_argument("--label", action="append", default=[], help="a line's label, in the order of the logs")
    args = parser.parse_args(argv)
    if args.label and len(args.label) != len(args.logs):
        parser.error(f"{len(args.label)} --label for {len(args.logs)} logs: give one per log, or none")
    labels = args.label or [log.stem for log in args.logs]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for log, label in zip(args.logs, labels):
        curve = valid_curve(log)
        if not curve:
            parser.error(f"{log}: no 'epoch N evaluating [... valid_score: X]' line; is it a RecBole training log?")
        axes.plot(*zip(*curve), marker="o", markersize=3, label=label)
    axes.set_xlabel("epoch")
    axes.set_ylabel(f"validation {args.metric}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.14))  # below: never over a line
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=120, bbox_inches="tight")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

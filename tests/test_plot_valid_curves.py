"""scripts/plot_valid_curves.py reads RecBole's per-epoch validation lines and draws them."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "plot_valid_curves.py"
spec = importlib.util.spec_from_file_location("plot_valid_curves", SCRIPT)
plot_valid_curves = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot_valid_curves)

LOG = """22 Nov 11:33    INFO  epoch 0 training [time: 115.89s, train loss: 3402.9101]
22 Nov 11:33    INFO  epoch 0 evaluating [time: 0.53s, valid_score: 0.041400]
22 Nov 11:35    INFO  epoch 1 evaluating [time: 0.43s, valid_score: 0.061500]
"""


def test_reads_the_curve_and_writes_a_png(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(LOG, encoding="utf-8")
    assert plot_valid_curves.valid_curve(log) == [(0, 0.0414), (1, 0.0615)]
    out = tmp_path / "fig" / "curves.png"
    assert plot_valid_curves.main([str(log), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_without_validation_lines_is_an_error(tmp_path, capsys):
    other = tmp_path / "other.log"
    other.write_text("nothing here\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        plot_valid_curves.main([str(other), "--out", str(tmp_path / "x.png")])
    assert "is it a RecBole training log?" in capsys.readouterr().err


def test_labels_name_the_lines_one_per_log(tmp_path, capsys, monkeypatch):
    log = tmp_path / "run.log"
    log.write_text(LOG, encoding="utf-8")
    drawn = []
    real_plot = plot_valid_curves.plt.Axes.plot
    monkeypatch.setattr(plot_valid_curves.plt.Axes, "plot",
                        lambda self, *args, **kwargs: drawn.append(kwargs["label"]) or real_plot(self, *args, **kwargs))
    assert plot_valid_curves.main([str(log), str(log), "--label", "a", "--label", "b", "--out",
                                   str(tmp_path / "x.png")]) == 0
    assert drawn == ["a", "b"]
    with pytest.raises(SystemExit):
        plot_valid_curves.main([str(log), str(log), "--label", "a", "--out", str(tmp_path / "y.png")])
    assert "1 --label for 2 logs" in capsys.readouterr().err

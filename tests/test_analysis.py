"""m2rec.analysis: per-user metrics from ranks, slices, noise, counts, and per-user evaluation that equals
RecBole's own test result for the same checkpoint."""
import math
from collections import Counter

import numpy as np
import pytest
import torch

from m2rec import analysis
from m2rec.runner import UsageError, make_config, run


def test_metrics_from_hand_made_ranks():
    ranks = np.array([1, 2, 10, 11])  # 11 = past the cut-off of 10
    per_user = analysis.user_metrics(ranks, ks=[10])
    assert list(per_user) == ["hit@10", "ndcg@10", "mrr@10"]
    assert per_user["hit@10"].tolist() == [1, 1, 1, 0]
    np.testing.assert_allclose(per_user["ndcg@10"], [1.0, 1 / math.log2(3), 1 / math.log2(11), 0.0])
    np.testing.assert_allclose(per_user["mrr@10"], [1.0, 0.5, 0.1, 0.0])
    means = analysis.mean_metrics(ranks, ks=[10])
    assert means["hit@10"] == pytest.approx(0.75)
    assert means["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(11)) / 4)
    assert means["mrr@10"] == pytest.approx(1.6 / 4)
    at_1 = analysis.mean_metrics(ranks, ks=[1])
    assert at_1 == {"hit@1": 0.25, "ndcg@1": 0.25, "mrr@1": 0.25}
    assert all(math.isnan(v) for v in analysis.mean_metrics(np.array([]), ks=[10]).values())
    assert analysis.paper_name("ndcg@20") == "NDCG@20" and analysis.metric_names([5]) == ["hit@5", "ndcg@5", "mrr@5"]


def test_target_ranks_follow_topk_and_mark_misses():
    scores = torch.tensor([[-math.inf, 0.9, 0.1, 0.5, 0.7],
                           [-math.inf, 0.9, 0.1, 0.5, 0.7],
                           [-math.inf, 0.9, 0.1, 0.5, 0.7]])
    targets = torch.tensor([1, 4, 2])
    assert analysis.target_ranks(scores, targets, k=3).tolist() == [1, 2, 4]  # item 2 is 4th: past k -> k + 1


def test_length_groups_cumulative_as_the_paper_and_disjoint():
    lengths = np.array([5, 99, 100, 150, 250, 300, 400])
    cumulative = analysis.length_groups(lengths, (100, 200, 300))
    assert {g: int(m.sum()) for g, m in cumulative.items()} == {"< 100": 2, "< 200": 4, "< 300": 5}
    disjoint = analysis.length_groups(lengths, (100, 200, 300), grouping="disjoint")
    assert {g: int(m.sum()) for g, m in disjoint.items()} == {"[0, 100)": 2, "[100, 200)": 2, "[200, 300)": 1,
                                                               ">= 300": 2}
    assert sum(disjoint.values()).tolist() == [1] * len(lengths)  # every user in exactly one group
    with pytest.raises(ValueError, match="increasing"):
        analysis.length_groups(lengths, (200, 100))
    with pytest.raises(ValueError, match="grouping"):
        analysis.length_groups(lengths, (100,), grouping="nested")


def test_cold_start_groups_and_slice_rows():
    history = np.array([3, 5, 6, 20])
    counts = np.array([0, 7, 5, 100])
    groups = analysis.cold_start_groups(history, counts, max_item_count=5, max_history=5)
    assert [m.tolist() for m in groups.values()] == [
        [True] * 4, [True, False, True, False], [False, True, False, True],
        [True, True, False, False], [False, False, True, True]]
    rows = analysis.slice_rows(np.array([1, 11, 2, 11]), groups, ks=[10])
    assert rows[0] == {"group": "all", "users": 4, "hit@10": 0.5, "ndcg@10": pytest.approx((1 + 1 / math.log2(3)) / 4),
                       "mrr@10": pytest.approx(0.375)}
    assert rows[1]["users"] == 2 and rows[1]["hit@10"] == 1.0 and rows[1]["mrr@10"] == pytest.approx(0.75)
    assert rows[2]["hit@10"] == 0.0


def test_mean_over_seeds_and_markdown_rows():
    rows = [{"label": "A", "group": "all", "users": 4, "hit@10": h, "ndcg@10": h / 2, "mrr@10": math.nan}
            for h in (0.1, 0.3)] + [{"label": "B", "group": "all", "users": 4, "hit@10": 0.5, "ndcg@10": 0.2,
                                     "mrr@10": 0.1}]
    table = analysis.mean_over_seeds(rows, ("label", "group"), ["hit@10", "ndcg@10", "mrr@10"])
    assert [(t["label"], t["seeds"], t["users"]) for t in table] == [("A", 2, 4), ("B", 1, 4)]
    assert table[0]["HR@10"] == pytest.approx(0.2) and table[0]["HR@10_std"] == pytest.approx(math.sqrt(0.02))
    assert table[1]["NDCG@10_std"] == 0.0
    text = analysis.markdown_rows(table, ("label", "users"), ["hit@10", "mrr@10"])
    assert text[0] == {"label": "A", "users": 4, "HR@10": "0.2000 ± 0.1414", "MRR@10": ""}
    assert text[1]["HR@10"] == "0.5000"


class Tied(torch.nn.Module):
    """A model with an item table of n_items + 1 rows (padding, items, a mask token as BERT4Rec's)."""

    def __init__(self, n_items=2001, d=16):
        super().__init__()
        self.n_items = n_items
        self.item_embedding = torch.nn.Embedding(n_items + 1, d)


def test_noise_hits_real_items_only_with_a_fixed_seed_and_is_undone():
    model = Tied()
    before = model.item_embedding.weight.detach().clone()
    sigma = before[1:model.n_items].std()
    with analysis.item_embedding_noise(model, 0.0):
        assert torch.equal(model.item_embedding.weight, before)
    with analysis.item_embedding_noise(model, 0.2, seed=3):
        noisy = model.item_embedding.weight.detach().clone()
    assert torch.equal(model.item_embedding.weight, before)  # restored
    noise = noisy - before
    assert torch.equal(noise[0], torch.zeros(16)) and torch.equal(noise[-1], torch.zeros(16))  # padding, mask token
    assert float(noise[1:-1].std()) == pytest.approx(0.2 * float(sigma), rel=0.03)
    with analysis.item_embedding_noise(model, 0.2, seed=3):
        assert torch.equal(model.item_embedding.weight, noisy)  # same seed, same draw
    with analysis.item_embedding_noise(model, 0.2, seed=4):
        assert not torch.equal(model.item_embedding.weight, noisy)
    with pytest.raises(ValueError, match=">= 0"):
        with analysis.item_embedding_noise(model, -0.1):
            pass
    with pytest.raises(ValueError, match="item_embedding"):
        with analysis.item_embedding_noise(torch.nn.Linear(2, 2), 0.1):
            pass


def test_device_settings(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "unchanged")
    assert analysis.device_settings("cpu") == ({"gpu_id": ""}, torch.device("cpu"))
    assert analysis.device_settings("cuda:1") == ({"gpu_id": "1"}, torch.device("cuda"))
    assert analysis.device_settings("cuda") == ({"gpu_id": "0"}, torch.device("cuda"))
    with pytest.raises(UsageError, match="cpu, cuda or cuda:N"):
        analysis.device_settings("gpu1")


def test_text_cache_override_finds_an_existing_cache(tiny_overrides, tmp_path):
    assert analysis.text_cache_override("tiny", tiny_overrides, [], str(tmp_path)) == {}
    cache = tmp_path / "tiny-sentence-transformers-all-MiniLM-L6-v2.textemb.pt"
    cache.write_bytes(b"")
    assert analysis.text_cache_override("tiny", tiny_overrides, [], str(tmp_path)) == {"text_cache": str(cache)}
    assert analysis.text_cache_override("tiny", {**tiny_overrides, "text_cache": "x"}, [], str(tmp_path)) == {}
    assert analysis.text_cache_override("tiny", tiny_overrides, [], None) == {}


def test_plot_grouped_bars(tmp_path):
    rows = [{"group": g, "model": m, "HR@10": v, "HR@10_std": 0.01} for g in ("a", "b") for m, v in (("x", 0.1), ("y", 0.2))]
    assert analysis.plot_grouped_bars(rows, "group", ["HR@10"], tmp_path / "g.png", hue="model").stat().st_size > 0
    assert analysis.plot_grouped_bars(rows[:2], "model", ["HR@10"], tmp_path / "b.png").stat().st_size > 0


@pytest.fixture(scope="module")
def trained(tiny_overrides, tmp_path_factory):
    """Checkpoints of M2Rec and BERT4Rec on the tiny dataset with RecBole's own test results."""
    out = {}
    for model in ("M2Rec", "BERT4Rec"):
        overrides = {**tiny_overrides, "checkpoint_dir": str(tmp_path_factory.mktemp(model))}
        result = run(make_config(model, "tiny", overrides=overrides))
        out[model] = (result["trainer"].saved_model_file, dict(result["test_result"]))
    return out


@pytest.mark.parametrize("model", ["M2Rec", "BERT4Rec"])
def test_per_user_evaluation_equals_recbole_test_result(trained, model):
    path, recbole_test = trained[model]
    loaded = analysis.load_checkpoint(path, "cpu")
    users, targets, ranks = analysis.evaluate_ranks(loaded.model, loaded.data.test, loaded.device)
    assert len(users) == len(set(users.tolist())) == 40  # one test row per user
    ours = analysis.mean_metrics(ranks, [10])
    assert set(ours) == set(recbole_test)
    for metric, value in recbole_test.items():
        assert abs(ours[metric] - value) <= 0.5e-4 + 1e-7, metric  # RecBole rounds to 4 decimals
    assert analysis.check_against_recbole(ours, recbole_test, path)
    with pytest.warns(UserWarning, match="differs from RecBole"):
        assert not analysis.check_against_recbole({**ours, "hit@10": ours["hit@10"] + 0.01}, recbole_test, path)

    with analysis.item_embedding_noise(loaded.model, 0.5, seed=0):
        _, _, noisy = analysis.evaluate_ranks(loaded.model, loaded.data.test, loaded.device)
    with analysis.item_embedding_noise(loaded.model, 0.5, seed=0):
        _, _, again = analysis.evaluate_ranks(loaded.model, loaded.data.test, loaded.device)
    assert not np.array_equal(noisy, ranks) and np.array_equal(noisy, again)
    _, _, after = analysis.evaluate_ranks(loaded.model, loaded.data.test, loaded.device)
    assert np.array_equal(after, ranks)  # the table is restored

    record = {"checkpoint": path, "label": model, "model": model, "seed": 2020, "test": recbole_test}
    rows = analysis.evaluate_slices([record], lambda data, u, t: {"all": np.ones(len(u), dtype=bool)},
                                    noise_levels=(0.0, 0.5))
    assert [(r["noise"], r["users"]) for r in rows] == [(0.0, 40), (0.5, 40)]
    assert rows[0]["hit@10"] == pytest.approx(ours["hit@10"])


def test_counts_match_the_raw_interactions(tiny_overrides, tiny_root):
    """History = interactions before the test item; train count = interactions before each user's last two
    (no k-core filter here, so that the raw file is the dataset)."""
    everything = {"user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)"}
    data = analysis.eval_data(make_config("M2Rec", "tiny", overrides={**tiny_overrides, **everything}))
    per_user: dict[str, list[tuple[float, str]]] = {}
    lines = (tiny_root / "tiny" / "tiny.inter").read_text().splitlines()[1:]
    for line in lines:
        user, item, time = line.split("\t")
        per_user.setdefault(user, []).append((float(time), item))
    train = Counter(item for events in per_user.values() for _, item in sorted(events)[:-2])
    dataset = data.test._dataset
    user_token, item_token = dataset.field2id_token["user_id"], dataset.field2id_token["item_id"]
    for uid in range(1, dataset.user_num):
        assert data.history_length[uid] == len(per_user[user_token[uid]]) - 1
    for iid in range(1, dataset.item_num):
        assert data.train_item_count[iid] == train[item_token[iid]], item_token[iid]
    assert data.train_item_count.sum() == sum(train.values())


def test_load_checkpoint_says_what_to_do_when_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="runs.jsonl"):
        analysis.load_checkpoint(tmp_path / "gone.pth")

"""RecMamba: shapes, left-padding positions, causality, padding, initialisation, and a tiny end-to-end run."""
import functools

import torch

from m2rec.mixer import MambaMixer
from m2rec.runner import make_config, run

import tiny


build = functools.partial(tiny.build, "RecMamba")
batch = tiny.batch


def test_shapes_and_gradients(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides, num_layers=2).train()
    b = batch(tiny_data)
    assert len(model.layers) == 2 and all(isinstance(m, MambaMixer) for m in model.layers)
    assert model.encode(b["item_id_list"], b["item_length"]).shape == (16, 12, 16)
    assert model.forward(b["item_id_list"], b["item_length"]).shape == (16, 16)
    assert model.full_sort_predict(b).shape == (16, model.n_items)
    assert model.predict(b).shape == (16,)
    loss = model.calculate_loss(b)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for param in (model.item_embedding.weight, model.position_embedding.weight, model.layers[0].A_log,
                  model.layers[0].dt_proj.weight, model.layers[1].out_proj.weight):
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_forward_is_encode_at_the_last_item(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides, num_layers=2).eval()
    b = batch(tiny_data)
    seq, length = b["item_id_list"], b["item_length"]
    grads = []
    for run_once in (lambda: model(seq, length), lambda: model.encode(seq, length)[torch.arange(16), length - 1]):
        model.zero_grad()
        out = run_once()
        out.square().sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    torch.testing.assert_close(grads[0][0], grads[1][0])
    for got, expected in zip(grads[0][1], grads[1][1]):
        torch.testing.assert_close(got, expected)


def test_positions_are_those_of_left_padding(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides)  # L = 12
    positions = model.positions(torch.tensor([1, 5, 12]))
    assert positions[0, 0] == 11  # a single item sits at the last position
    assert positions[1, :5].tolist() == [7, 8, 9, 10, 11]
    assert positions[2].tolist() == list(range(12))
    assert positions.max() == 11  # padding clamped into the table


def test_output_at_t_ignores_later_items_and_padding(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides, num_layers=2)
    b = batch(tiny_data)
    seq, length = b["item_id_list"], b["item_length"]
    t = 4
    changed = seq.clone()
    changed[:, t + 1:] = torch.randint(1, model.n_items, changed[:, t + 1:].shape)
    with torch.no_grad():
        torch.testing.assert_close(model.encode(changed, length)[:, : t + 1], model.encode(seq, length)[:, : t + 1])
        filled = torch.where(seq > 0, seq, torch.randint(1, model.n_items, seq.shape))
        torch.testing.assert_close(model(filled, length), model(seq, length))


def test_xavier_init_keeps_mambas_own_ssm_init(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides)
    mixer = model.layers[0]
    expected_a = torch.log(torch.arange(1, mixer.d_state + 1, dtype=torch.float32)).expand_as(mixer.A_log)
    torch.testing.assert_close(mixer.A_log.data, expected_a)  # S4D-real, not overwritten
    dt = torch.nn.functional.softplus(mixer.dt_proj.bias)
    assert dt.min() >= 1e-4 and dt.max() <= 0.1 + 1e-6  # mamba-ssm's Δ range
    fan_in, fan_out = mixer.in_proj.weight.shape[1], mixer.in_proj.weight.shape[0]
    xavier_std = (2 / (fan_in + fan_out)) ** 0.5
    assert abs(mixer.in_proj.weight.std().item() - xavier_std) < 0.3 * xavier_std


def test_tiny_end_to_end(tiny_overrides, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # RecBole writes ./log
    overrides = {**tiny_overrides, "checkpoint_dir": str(tmp_path), "mamba_backend": "torch"}
    result = run(make_config("RecMamba", "tiny", overrides=overrides))
    metrics = result["test_result"]
    assert set(metrics) == {"hit@10", "ndcg@10", "mrr@10"}
    assert 0 <= metrics["mrr@10"] <= metrics["ndcg@10"] <= metrics["hit@10"] <= 1

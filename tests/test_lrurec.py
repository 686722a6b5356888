"""LRURec: parallel scan = recurrence (values and gradients), ring init, shapes, causality, padding,
incremental inference, and a tiny end-to-end run."""
import functools
import math

import pytest
import torch

from m2rec.lrurec import LRULayer, lru_parallel, lru_recurrent
from m2rec.runner import make_config, run

import tiny


build = functools.partial(tiny.build, "LRURec")
batch = tiny.batch


def random_eigenvalues(n, dtype=torch.float64):
    modulus = 0.5 + 0.49 * torch.rand(n, dtype=dtype)
    return torch.polar(modulus, 2 * math.pi * torch.rand(n, dtype=dtype))  # (n,) complex, |λ| < 1


@pytest.mark.parametrize("length", [1, 2, 5, 8, 13, 64])
def test_parallel_scan_equals_recurrence_values_and_gradients(length):
    torch.manual_seed(length)
    lamb = random_eigenvalues(6).requires_grad_()
    bu = torch.randn(3, length, 6, dtype=torch.complex128, requires_grad=True)
    weight = torch.randn(3, length, 6, dtype=torch.complex128)

    def loss_and_grads(scan):
        h = scan(lamb, bu)  # (B, L, H)
        loss = (h * weight).real.sum()
        return (h, *torch.autograd.grad(loss, (lamb, bu), materialize_grads=True))  # L = 1: no λ in the scan

    for parallel, recurrent in zip(loss_and_grads(lru_parallel), loss_and_grads(lru_recurrent)):
        torch.testing.assert_close(parallel, recurrent, rtol=1e-10, atol=1e-10)


def test_parallel_scan_in_float32_matches_at_recbole_length():
    torch.manual_seed(0)
    lamb = random_eigenvalues(32, torch.float32)
    bu = torch.randn(4, 200, 32, dtype=torch.complex64)
    torch.testing.assert_close(lru_parallel(lamb, bu), lru_recurrent(lamb, bu), rtol=1e-4, atol=1e-4)


def test_ring_initialisation_and_gamma():
    torch.manual_seed(0)
    layer = LRULayer(d_model=32, dropout=0.0, r_min=0.8, r_max=0.99)
    modulus = layer.eigenvalues().abs()  # (64,)
    assert layer.state_size == 64 and modulus.shape == (64,)
    assert modulus.min() >= 0.8 - 1e-6 and modulus.max() <= 0.99 + 1e-6
    torch.testing.assert_close(torch.exp(layer.gamma_log), torch.sqrt(1 - modulus ** 2))
    with pytest.raises(ValueError, match="r_min < r_max"):
        LRULayer(d_model=4, dropout=0.0, r_min=0.9, r_max=0.5)


def test_shapes_and_gradients(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides).train()
    b = batch(tiny_data)
    assert model.forward(b["item_id_list"], b["item_length"]).shape == (16, 16)
    assert model.full_sort_predict(b).shape == (16, model.n_items)
    assert model.predict(b).shape == (16,)
    loss = model.calculate_loss(b)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    lru = model.blocks[0].lru
    for param in (lru.nu_log, lru.theta_log, lru.gamma_log, lru.in_proj.weight, model.item_bias):
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_output_at_t_ignores_later_items_and_padding(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides)
    b = batch(tiny_data)
    seq, length = b["item_id_list"], b["item_length"]
    t = 4
    changed = seq.clone()
    changed[:, t + 1:] = torch.randint(1, model.n_items, changed[:, t + 1:].shape)
    with torch.no_grad():
        torch.testing.assert_close(model.encode(changed)[:, : t + 1], model.encode(seq)[:, : t + 1])
        # RecBole's right padding (0 after the last item) may hold anything without changing the user state
        filled = torch.where(seq > 0, seq, torch.randint(1, model.n_items, seq.shape))
        torch.testing.assert_close(model(filled, length), model(seq, length))


def test_incremental_inference_matches_the_parallel_forward(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides, num_layers=2)
    seq = batch(tiny_data)["item_id_list"]
    with torch.no_grad():
        full = model.encode(seq)  # (B, L, d)
        states = model.init_state(seq.shape[0])
        for t in range(seq.shape[1]):
            user, states = model.step(seq[:, t], states)
            torch.testing.assert_close(user, full[:, t], rtol=1e-4, atol=1e-4)


def test_tiny_end_to_end(tiny_overrides, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # RecBole writes ./log
    overrides = {**tiny_overrides, "checkpoint_dir": str(tmp_path)}
    result = run(make_config("LRURec", "tiny", overrides=overrides))
    metrics = result["test_result"]
    assert set(metrics) == {"hit@10", "ndcg@10", "mrr@10"}
    assert 0 <= metrics["mrr@10"] <= metrics["ndcg@10"] <= metrics["hit@10"] <= 1
    assert metrics["hit@10"] > 10 / 60  # above chance on the learnable walk

"""Our Triton scan (m2rec/scan_triton.py) against the closed form, values and all five gradients.

On the CPU the kernels run in Triton's interpreter (conftest sets TRITON_INTERPRET=1), on a GPU compiled."""
import pytest
import torch

pytest.importorskip("triton")

from m2rec import scan_triton  # noqa: E402
from m2rec.scan import selective_scan_ref, selective_scan_torch, selective_scan_triton  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def inputs(batch, D, L, N, seed=0, channels_last=False):
    """u, Δ (positive), A (negative), B, C; u as a (B, L, D) tensor seen as (B, D, L) when channels_last."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, L, D, generator=g).transpose(1, 2) if channels_last else torch.randn(batch, D, L, generator=g)
    dt = torch.rand(batch, D, L, generator=g) * 0.5 + 0.01
    A = -torch.rand(D, N, generator=g) * 3 - 0.1
    B, C = torch.randn(batch, N, L, generator=g), torch.randn(batch, N, L, generator=g)
    return [x.to(DEVICE).requires_grad_() for x in (u, dt, A, B, C)]


def check_against_reference(xs, seed=1):
    y = scan_triton.scan(*xs)
    y_ref = selective_scan_ref(*xs)
    weights = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed)).to(DEVICE)
    grads = torch.autograd.grad((y * weights).sum(), xs)
    grads_ref = torch.autograd.grad((y_ref * weights).sum(), xs)
    torch.testing.assert_close(y, y_ref, rtol=1e-4, atol=1e-4)
    for name, got, expected in zip(("u", "dt", "A", "B", "C"), grads, grads_ref):
        assert got.shape == expected.shape, name
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item(), msg=name)


@pytest.mark.parametrize("batch, D, L, N", [(2, 5, 37, 3),  # D, N padded to powers of 2; L not a multiple of K
                                            (3, 8, 16, 4),  # exactly one chunk
                                            (1, 4, 1, 2)])  # a single step
def test_one_channel_block_matches_closed_form(batch, D, L, N):
    check_against_reference(inputs(batch, D, L, N))


def test_several_channel_blocks_add_dB_dC_atomically(monkeypatch):
    monkeypatch.setattr(scan_triton, "FWD_LAUNCH", (16, None))
    monkeypatch.setattr(scan_triton, "BWD_LAUNCH", (16, None))
    assert scan_triton._blocks(40, 4, 16)[0] == 16  # 3 programs per sequence
    check_against_reference(inputs(2, 40, 21, 4, channels_last=True))


def test_launch_settings_change_nothing(monkeypatch):
    monkeypatch.setattr(scan_triton, "FWD_LAUNCH", (8, 1))
    monkeypatch.setattr(scan_triton, "BWD_LAUNCH", (16, 2))
    check_against_reference(inputs(2, 40, 21, 4, channels_last=True))
    xs = [x.detach() for x in inputs(1, 8, 13, 3)]
    y, ckpt = scan_triton.forward(*xs, save=True, k=4)
    assert ckpt.shape == (1, 4, 8, 4)  # ceil(13 / 4) stored states, N padded to 4
    dy = torch.ones_like(y)
    grads = scan_triton.backward(*xs, ckpt, dy, k=4)
    for got, expected in zip(grads, scan_triton.backward(*xs, scan_triton.forward(*xs, save=True)[1], dy)):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_wrapper_with_bias_softplus_D_and_gate_matches_step_loop():
    u, delta, A, B, C = inputs(2, 6, 19, 4, seed=3)
    g = torch.Generator().manual_seed(4)
    D, z, bias = (torch.randn(shape, generator=g).to(DEVICE).requires_grad_() for shape in ((6,), (2, 6, 19), (6,)))
    xs = [u, delta, A, B, C, D, z, bias]
    y = selective_scan_triton(*xs[:7], delta_bias=bias, delta_softplus=True)
    y_ref = selective_scan_torch(*xs[:7], delta_bias=bias, delta_softplus=True)
    torch.testing.assert_close(y, y_ref, rtol=1e-4, atol=1e-5)
    for got, expected in zip(torch.autograd.grad(y.sum(), xs), torch.autograd.grad(y_ref.sum(), xs)):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_no_checkpoints_without_gradients():
    xs = [x.detach() for x in inputs(2, 5, 20, 3)]
    torch.testing.assert_close(scan_triton.scan(*xs), selective_scan_ref(*xs), rtol=1e-4, atol=1e-4)

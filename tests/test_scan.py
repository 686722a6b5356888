"""The pure-PyTorch selective scan against the step-by-step reference (CPU), forward and gradients;
and, on a GPU with mamba-ssm, our mixer with the pure-PyTorch and the Triton scan against mamba-ssm's Mamba."""
import pytest
import torch

from m2rec.mixer import MambaMixer
from m2rec.scan import HAS_CUDA_KERNELS, resolve_backend, selective_scan_ref, selective_scan_torch


def _inputs(batch=3, d_inner=8, d_state=4, length=13, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    return dict(u=r(batch, d_inner, length), delta=r(batch, d_inner, length) * 0.5,
                A=-torch.rand(d_inner, d_state, generator=g, dtype=torch.float64) * 2,
                B=r(batch, d_state, length), C=r(batch, d_state, length), D=r(d_inner),
                z=r(batch, d_inner, length), delta_bias=r(d_inner) * 0.1)


@pytest.mark.parametrize("length", [1, 7, 16, 50])
def test_parallel_scan_matches_loop_forward_and_grads(length):
    args = _inputs(length=length)
    leaves = {k: v.clone().requires_grad_(True) for k, v in args.items()}
    y_ref = selective_scan_ref(**leaves, delta_softplus=True)
    grads_ref = torch.autograd.grad(y_ref.square().sum(), list(leaves.values()))
    leaves2 = {k: v.clone().requires_grad_(True) for k, v in args.items()}
    y = selective_scan_torch(**leaves2, delta_softplus=True)
    grads = torch.autograd.grad(y.square().sum(), list(leaves2.values()))
    assert y.shape == (3, 8, length)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    for name, g, g_ref in zip(leaves, grads, grads_ref):
        torch.testing.assert_close(g, g_ref, rtol=1e-4, atol=1e-4, msg=f"gradient of {name}")


def test_reference_is_the_recurrence():
    """One state, one channel: y_t = C_t h_t + D u_t with h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t."""
    u = torch.tensor([[[1.0, 2.0, -1.0]]])
    delta = torch.tensor([[[0.5, 1.0, 0.25]]])
    A = torch.tensor([[-1.0]])
    B = torch.tensor([[[1.0, 0.5, 2.0]]])
    C = torch.tensor([[[2.0, 1.0, 1.0]]])
    D = torch.tensor([0.1])
    h, expected = 0.0, []
    for t in range(3):
        h = torch.exp(delta[0, 0, t] * A[0, 0]) * h + delta[0, 0, t] * B[0, 0, t] * u[0, 0, t]
        expected.append(C[0, 0, t] * h + D[0] * u[0, 0, t])
    y = selective_scan_ref(u, delta, A, B, C, D)
    torch.testing.assert_close(y[0, 0], torch.stack(expected))


def test_backend_choice_on_cpu():
    assert resolve_backend("auto", torch.device("cpu")) == "torch"
    assert resolve_backend("torch", torch.device("cpu")) == "torch"
    for backend in ("cuda", "triton"):
        with pytest.raises(RuntimeError, match=f"mamba_backend: {backend} needs"):
            resolve_backend(backend, torch.device("cpu"))
    with pytest.raises(ValueError, match="mamba_backend must be one of"):
        resolve_backend("mambapy", torch.device("cpu"))


def test_mixer_is_causal_and_state_dict_has_mamba_ssm_names():
    torch.manual_seed(0)
    mixer = MambaMixer(d_model=16, d_state=8, d_conv=4, expand=2, backend="torch")
    assert sorted(mixer.state_dict()) == sorted([
        "in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight", "dt_proj.weight",
        "dt_proj.bias", "A_log", "D", "out_proj.weight"])
    dt = torch.nn.functional.softplus(mixer.dt_proj.bias)
    assert dt.min() >= 1e-4 and dt.max() <= 0.1 + 1e-6  # mamba-ssm's Δ init range
    x = torch.randn(2, 10, 16)
    y = mixer(x)
    x2 = x.clone()
    x2[:, 6:] = torch.randn(2, 4, 16)
    y2 = mixer(x2)
    torch.testing.assert_close(y[:, :6], y2[:, :6])
    assert not torch.allclose(y[:, 6:], y2[:, 6:])


@pytest.mark.skipif(not (torch.cuda.is_available() and HAS_CUDA_KERNELS), reason="needs a GPU and mamba-ssm")
@pytest.mark.parametrize("seq_len", [50, 200])
@pytest.mark.parametrize("backend", ["torch", "triton"])
def test_our_scans_match_mamba_ssm_on_gpu(seq_len, backend):
    from mamba_ssm import Mamba

    torch.manual_seed(0)
    ref = Mamba(d_model=64, d_state=32, d_conv=4, expand=2).cuda()
    ours = MambaMixer(d_model=64, d_state=32, d_conv=4, expand=2, backend=backend).cuda()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(8, seq_len, 64, device="cuda", requires_grad=True)
    y_ref = ref(x)
    g_ref = torch.autograd.grad(y_ref.square().sum(), [x, *ref.parameters()])
    y = ours(x)
    g = torch.autograd.grad(y.square().sum(), [x, *ours.parameters()])
    assert (y - y_ref).abs().max().item() <= 1e-4
    for a, b in zip(g, g_ref):
        assert (a - b).abs().max().item() <= 1e-3 * max(1.0, b.abs().max().item())
    kernel = MambaMixer(d_model=64, d_state=32, d_conv=4, expand=2, backend="cuda").cuda()
    kernel.load_state_dict(ref.state_dict())
    assert (kernel(x) - y_ref).abs().max().item() <= 1e-5


@pytest.mark.parametrize("backend", [
    "torch",
    pytest.param("triton", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")),
    pytest.param("cuda", marks=pytest.mark.skipif(not (torch.cuda.is_available() and HAS_CUDA_KERNELS),
                                                  reason="needs a GPU and mamba-ssm")),
])
def test_mixer_at_last_is_the_full_output_there(backend):
    """`last` runs the skip term, gate and out_proj at one position: same output and input gradient."""
    device = "cpu" if backend == "torch" else "cuda"
    torch.manual_seed(0)
    mixer = MambaMixer(d_model=16, d_state=8, d_conv=4, expand=2, backend=backend).to(device)
    x = torch.randn(5, 12, 16, device=device, requires_grad=True)
    last = torch.tensor([11, 0, 5, 7, 3], device=device)
    full = mixer(x)[torch.arange(5, device=device), last]  # (B, d)
    at_last = mixer(x, last=last)  # (B, d)
    torch.testing.assert_close(at_last, full, rtol=1e-5, atol=1e-5)
    weights = torch.randn(5, 16, device=device)
    grad_full, = torch.autograd.grad((full * weights).sum(), x)
    grad_last, = torch.autograd.grad((at_last * weights).sum(), x)
    torch.testing.assert_close(grad_last, grad_full, rtol=1e-5, atol=1e-5)

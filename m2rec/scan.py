"""Selective scan of Mamba (paper Eq. 14-15, first line): three implementations, one signature.

    h_t = Ā_t h_{t-1} + B̄_t x_t,   Ā_t = exp(Δ_t A),  B̄_t x_t ≈ Δ_t B_t x_t   (Eq. 14, as mamba-ssm)
    y_t = C_t h_t + D x_t,         then y ⊙ SiLU(z) when a gate z is given

The signature and shapes are mamba-ssm's `selective_scan_fn`, so the three are interchangeable:
    u (B, D, L)  delta (B, D, L)  A (D, N)  B (B, N, L)  C (B, N, L)  D (D,)  z (B, D, L)
    delta_bias (D,)  ->  y (B, D, L)
Here D is the inner width (expand * d_model) and N the state size (d_state).

- `selective_scan_ref`: the closed form h_t = Σ_{s<=t} exp(A (S_t - S_s)) Δ_s B_s x_s with
  S_t = Σ_{r<=t} Δ_r, no recurrence at all: an independent reference for tests (O(L²) memory).
- `selective_scan_torch`: pure PyTorch, the recurrence one step at a time, discretising each step on
  the fly so that only (B, D, N) tensors are alive per step. On a 1-thread CPU (B=256, D=128, N=32,
  L=50, fwd+bwd) it took 0.75 s where mambapy's parallel scan (`mambapy.pscan`, which materialises
  (B, L, D, N) tensors) took 3.98 s: `benchmarks/scan_cpu.py` measures both.
- `selective_scan_triton`: our Triton kernels (m2rec/scan_triton.py), for GPUs without mamba-ssm.
- mamba-ssm's fused CUDA kernel, used when `import mamba_ssm` works and the tensors are on CUDA.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

try:
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as _cuda_selective_scan
except (ImportError, OSError):  # mamba-ssm absent, or installed without its compiled kernels
    _cuda_selective_scan = None
try:
    from m2rec import scan_triton
except ImportError:  # no Triton (CPU-only PyTorch builds, macOS, Windows)
    scan_triton = None

HAS_CUDA_KERNELS = _cuda_selective_scan is not None
HAS_TRITON = scan_triton is not None
BACKENDS = ("auto", "cuda", "triton", "torch")


def resolve_backend(backend: str, device: torch.device) -> str:
    """The scan that runs for `mamba_backend` on `device`: "cuda" (mamba-ssm), "triton" or "torch".

    auto: on a GPU our Triton kernels (faster than mamba-ssm's at the paper's shapes: a Mamba4Rec ML-1M
    epoch 16.6 s against 22.6 s on an H100, docs/performance.md), else mamba-ssm's when installed, else
    the step loop; on the CPU the step loop. A backend that cannot run is an error saying what to change.
    """
    if backend not in BACKENDS:
        raise ValueError(f"mamba_backend must be one of {BACKENDS}, got {backend!r}")
    on_gpu = device.type == "cuda"
    if backend == "cuda" and not HAS_CUDA_KERNELS:
        raise RuntimeError("mamba_backend: cuda needs mamba-ssm's kernels; install them with "
                           "pip install 'm2rec[cuda]' --no-build-isolation, or set mamba_backend: auto")
    if backend == "triton" and not HAS_TRITON:
        raise RuntimeError("mamba_backend: triton needs the triton package (it comes with PyTorch's CUDA "
                           "builds on Linux); set mamba_backend: auto")
    if backend in ("cuda", "triton") and not on_gpu:
        raise RuntimeError(f"mamba_backend: {backend} needs the model on a GPU; set mamba_backend: auto "
                           "to use the pure-PyTorch scan on the CPU")
    if backend != "auto":
        return backend
    if on_gpu and HAS_TRITON:
        return "triton"
    return "cuda" if on_gpu and HAS_CUDA_KERNELS else "torch"


def skip_and_gate(y, u, D, z):
    """y + D x, then the SiLU(z) gate; back to the input dtype.  y, u, z: (B, D, L)."""
    if D is not None:
        y = y + u.float() * D.float()[None, :, None]
    if z is not None:
        y = y * F.silu(z.float())
    return y.to(u.dtype)


def _step_sizes(delta, delta_bias, delta_softplus):
    """Δ of Eq. 14 in float32.  delta: (B, D, L)."""
    delta = delta.float()
    if delta_bias is not None:
        delta = delta + delta_bias.float()[None, :, None]
    return F.softplus(delta) if delta_softplus else delta


def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """Closed form, for tests: y_t = Σ_n C_tn Σ_{s<=t} exp(A_dn (S_t - S_s)) Δ_s B_sn x_s + D x_t."""
    dt = _step_sizes(delta, delta_bias, delta_softplus).to(u.dtype)  # (B, D, L)
    S = dt.cumsum(dim=2)  # (B, D, L)
    gap = S[:, :, :, None] - S[:, :, None, :]  # (B, D, L_t, L_s)
    causal = torch.ones(u.shape[2], u.shape[2], dtype=torch.bool, device=u.device).tril()  # (L_t, L_s)
    decay = torch.exp(gap[..., None] * A[:, None, None, :].to(u.dtype))  # (B, D, L_t, L_s, N)
    decay = decay * causal[None, None, :, :, None]
    # weight (b, d, t, s) = Σ_n C[b, n, t] decay[b, d, t, s, n] B[b, n, s]
    weight = torch.einsum("bnt,bdtsn,bns->bdts", C.to(u.dtype), decay, B.to(u.dtype))
    y = torch.einsum("bdts,bds->bdt", weight, dt * u)  # (B, D, L)
    if D is not None:
        y = y + u * D.to(u.dtype)[None, :, None]
    return y * F.silu(z) if z is not None else y


def selective_scan_torch(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """Pure PyTorch: the recurrence of Eq. 14 one step at a time, float32 state (B, D, N)."""
    dt = _step_sizes(delta, delta_bias, delta_softplus)  # (B, D, L)
    dt_u = dt * u.float()  # (B, D, L)
    A, B, C = A.float(), B.float(), C.float()
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1], dtype=torch.float32)  # (B, D, N)
    ys = []
    for t in range(u.shape[2]):
        h = torch.exp(dt[:, :, t, None] * A) * h + dt_u[:, :, t, None] * B[:, None, :, t]  # (B, D, N)
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, t]))  # (B, D)
    return skip_and_gate(torch.stack(ys, dim=2), u, D, z)  # (B, D, L)


def selective_scan_triton(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """Our Triton kernels for the recurrence (m2rec/scan_triton.py); Δ, D x and the gate in PyTorch."""
    dt = _step_sizes(delta, delta_bias, delta_softplus)  # (B, D, L)
    y = scan_triton.scan(u.float(), dt, A.float(), B.float(), C.float())  # (B, D, L)
    return skip_and_gate(y, u, D, z)


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   backend: str = "auto"):
    """Dispatch on `resolve_backend(backend, u.device)`; any strides (mamba-ssm copies where it must)."""
    return _SCANS[resolve_backend(backend, u.device)](u, delta, A, B, C, D, z, delta_bias, delta_softplus)


_SCANS = {"cuda": _cuda_selective_scan, "triton": selective_scan_triton, "torch": selective_scan_torch}

"""The Mamba mixer of the AFFM block (paper Eq. 14-15, Fig. 2), checkpoint-compatible with mamba-ssm.

Parameter names, shapes and initialisation are those of `mamba_ssm.modules.mamba_simple.Mamba`
(in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj), so a state dict moves between this module
and mamba-ssm's, and between a GPU and a CPU, unchanged. Only an optional Fourier filter adds keys
(`fourier.*`, with `filter_position: inner`).

    x, z = in_proj(u).chunk(2)                        # (B, D_in, L) each
    x = conv1d(x)                                     # depthwise causal conv, width d_conv
    x = FourierFilter(x)                              # only for the paper's Fig. 2 form ('inner')
    x = SiLU(x)
    Δ, B, C = split(x_proj(x)); Δ = dt_proj(Δ)        # input-dependent SSM parameters
    y = SelectiveScan(x, Δ, A = -exp(A_log), B, C, D) ⊙ SiLU(z)   # Eq. 14-15: H ⊙ SiLU(Linear(X))
    out = out_proj(y)                                 # Eq. 15: E(m) = Linear(H)

`last` (B,) asks for one position per sequence: the recurrence still runs over all of them, but the
skip term, the gate and out_proj run only at `last` (a recommender scores one position; everything
after the scan is position-wise, so the output there is the same).

Backends (`backend`, see `m2rec.scan.resolve_backend`): "cuda" is mamba-ssm's kernels (its whole-block
`mamba_inner_fn` when there is no inner filter and causal-conv1d is installed), "triton" our Triton
scan, "torch" the pure-PyTorch step loop; "auto" picks the first that can run. causal-conv1d, when
installed, does the convolution on any GPU backend.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from m2rec.filter import FourierFilter
from m2rec.scan import resolve_backend, selective_scan, skip_and_gate

try:
    from mamba_ssm.ops.selective_scan_interface import mamba_inner_fn
except (ImportError, OSError):  # mamba-ssm absent, or installed without its compiled kernels
    mamba_inner_fn = None
try:
    from causal_conv1d import causal_conv1d_fn
except (ImportError, OSError):  # causal-conv1d is optional even with mamba-ssm
    causal_conv1d_fn = None


class MambaMixer(nn.Module):
    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | str = "auto",
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 1e-4,
        dt_scale: float = 1.0,
        conv_bias: bool = True,
        bias: bool = False,
        backend: str = "auto",
        inner_filter: FourierFilter | None = None,
    ):
        super().__init__()
        self.d_model = d_model
        self.d_state = d_state
        self.d_inner = int(expand * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.backend = backend

        self.in_proj = nn.Linear(d_model, self.d_inner * 2, bias=bias)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, kernel_size=d_conv, groups=self.d_inner,
                                padding=d_conv - 1, bias=conv_bias)
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)
        self.fourier = inner_filter

        # Δ initialisation of mamba-ssm: dt_proj.weight ~ U(±dt_rank^-0.5 * dt_scale) and
        # softplus(dt_proj.bias) log-uniform in [dt_min, dt_max].
        dt_init_std = self.dt_rank ** -0.5 * dt_scale
        nn.init.uniform_(self.dt_proj.weight, -dt_init_std, dt_init_std)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.dt_proj.bias._no_reinit = True

        A = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)  # (D_in, N)
        self.A_log = nn.Parameter(torch.log(A))
        self.A_log._no_weight_decay = True
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.D._no_weight_decay = True

    def _conv(self, x: torch.Tensor, on_gpu: bool) -> torch.Tensor:
        """Depthwise causal conv, no activation.  x: (B, D_in, L) -> (B, D_in, L)."""
        if on_gpu and causal_conv1d_fn is not None:
            weight = self.conv1d.weight.squeeze(1)  # (D_in, d_conv)
            return causal_conv1d_fn(x, weight, self.conv1d.bias, activation=None)
        return self.conv1d(x)[..., : x.shape[-1]]

    def forward(self, hidden_states: torch.Tensor, pad_mask: torch.Tensor | None = None,
                last: torch.Tensor | None = None) -> torch.Tensor:
        # hidden_states: (B, L, d_model); pad_mask: (B, L), True at real items (used by the filter);
        # last: (B,) the one position per sequence to return, or None for all -> (B, d_model) or (B, L, d_model)
        backend = resolve_backend(self.backend, hidden_states.device)
        xz = self.in_proj(hidden_states).transpose(1, 2)  # (B, 2 D_in, L)
        A = -torch.exp(self.A_log.float())  # (D_in, N)

        if backend == "cuda" and self.fourier is None and causal_conv1d_fn is not None:
            out = mamba_inner_fn(xz, self.conv1d.weight, self.conv1d.bias, self.x_proj.weight,
                                 self.dt_proj.weight, self.out_proj.weight, self.out_proj.bias, A,
                                 None, None, self.D.float(), delta_bias=self.dt_proj.bias.float(),
                                 delta_softplus=True)  # (B, L, d_model)
            return out if last is None else out[torch.arange(out.shape[0], device=out.device), last]

        x, z = xz.chunk(2, dim=1)  # (B, D_in, L) each
        x = self._conv(x, hidden_states.is_cuda)  # (B, D_in, L)
        if self.fourier is not None:
            x = self.fourier(x.transpose(1, 2), pad_mask).transpose(1, 2)  # (B, D_in, L)
        x = F.silu(x)
        x_dbl = self.x_proj(x.transpose(1, 2))  # (B, L, dt_rank + 2N)
        dt, B, C = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = (dt @ self.dt_proj.weight.t()).transpose(1, 2)  # (B, D_in, L), bias added in the scan
        whole = last is None
        y = selective_scan(x, dt, A, B.transpose(1, 2), C.transpose(1, 2), self.D.float() if whole else None,
                           z=z if whole else None, delta_bias=self.dt_proj.bias.float(), delta_softplus=True,
                           backend=backend)  # (B, D_in, L); B, C: (B, N, L) views
        if whole:
            return self.out_proj(y.transpose(1, 2))  # (B, L, d_model)
        y = skip_and_gate(_at(y, last), _at(x, last), self.D, _at(z, last))  # (B, D_in, 1): D x, gate at `last`
        return self.out_proj(y[:, :, 0])  # (B, d_model)


def _at(t: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """t at one position per sequence, keeping the time axis.  t: (B, C, L), last: (B,) -> (B, C, 1)."""
    return t.gather(2, last.view(-1, 1, 1).expand(-1, t.shape[1], 1))

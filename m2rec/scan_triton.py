"""The selective-scan recurrence of Eq. 14-15 as two Triton kernels (forward, backward), float32.

    h_t = exp(Δ_t A) h_{t-1} + Δ_t x_t B_t        h: (D, N) per sequence, h_0 = 0
    y_t = Σ_n C_tn h_tn

`scan(u, dt, A, B, C)` takes Δ already positive (softplus and bias applied by the caller, m2rec.scan)
and returns y (B, D, L); D·x and the SiLU(z) gate stay in PyTorch. Shapes and strides as mamba-ssm's
`selective_scan_fn`: u, dt (B, D, L); A (D, N); B, C (B, N, L); any strides (the mixer's (B, L, D)
transposed views are read in place, coalesced).

How it runs: one program per (sequence, block of BD channels) walks the sequence in time order with the
(BD, N) state in registers. The backward walks it in reverse; it needs h_{t-1} at every step, so the
forward stores the state every K steps (`ckpt`, (B, L/K, D, N)) and the backward recomputes each
K-step chunk from its checkpoint into a per-program scratch buffer before walking the chunk backwards.
dB and dC sum over channels: inside the program when one block covers D, else with atomic adds.
∂A is summed over the batch from per-sequence partials.

mamba-ssm's CUDA kernel gives each (sequence, channel) a 32-thread block that scans time in parallel and
adds dB/dC with one atomic per channel; at the ML-1M training shape (B = 2048, D = 128, N = 32, L = 200)
its backward took 19.9 ms of a Mamba4Rec step on the H100 (docs/performance.md), which is what this
file competes with. Tested against `selective_scan_ref` in Triton's interpreter on the CPU
(tests/test_scan_triton.py) and on the GPU (benchmarks/gpu_parity.py).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

K_CHUNK = 16  # steps between stored states: memory B·D·N·L/K floats, recompute one chunk at a time
MAX_BLOCK_D = 128
# Launch settings (channels per program, warps) of the forward and the backward; None = `_blocks`'s
# heuristic. The fastest of benchmarks/scan_tune.py's sweep on an H100 at B 2048, D 128, N 32, L 200 and
# at B 256, L 2000 (both: forward 0.68-0.73x, backward 0.88x the heuristic's time; docs/performance.md).
FWD_LAUNCH: tuple[int | None, int | None] = (64, 2)
BWD_LAUNCH: tuple[int | None, int | None] = (128, 4)


@triton.jit
def _scan_fwd_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, y_ptr, ck_ptr,
                     su_b, su_d, su_l, sdt_b, sdt_d, sdt_l, sA_d, sA_n, sB_b, sB_n, sB_l, sC_b, sC_n, sC_l,
                     L, D, N, n_chunks,
                     BD: tl.constexpr, NP: tl.constexpr, K: tl.constexpr, SAVE: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    d = tl.program_id(1) * BD + tl.arange(0, BD)  # (BD,)
    n = tl.arange(0, NP)  # (NP,)
    md, mn = d < D, n < N
    A = tl.load(A_ptr + d[:, None] * sA_d + n[None, :] * sA_n, mask=md[:, None] & mn[None, :], other=0.0)
    h = tl.zeros((BD, NP), dtype=tl.float32)  # (BD, NP); padded states stay 0 (B = 0 there)
    ck = ck_ptr + (b * n_chunks * D + d[:, None]) * NP + n[None, :]  # ckpt layout (B, n_chunks, D, NP)
    y = y_ptr + b * D * L + d * L  # y is allocated contiguous (B, D, L)
    for t in range(L):
        if SAVE:
            if t % K == 0:
                tl.store(ck + (t // K) * D * NP, h, mask=md[:, None])  # state before step t
        u = tl.load(u_ptr + b * su_b + d * su_d + t * su_l, mask=md, other=0.0).to(tl.float32)
        dt = tl.load(dt_ptr + b * sdt_b + d * sdt_d + t * sdt_l, mask=md, other=0.0).to(tl.float32)
        Bt = tl.load(B_ptr + b * sB_b + n * sB_n + t * sB_l, mask=mn, other=0.0).to(tl.float32)
        Ct = tl.load(C_ptr + b * sC_b + n * sC_n + t * sC_l, mask=mn, other=0.0).to(tl.float32)
        h = tl.exp(dt[:, None] * A) * h + (dt * u)[:, None] * Bt[None, :]
        tl.store(y + t, tl.sum(h * Ct[None, :], axis=1), mask=md)


@triton.jit
def _scan_bwd_kernel(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, dy_ptr, ck_ptr, sc_ptr,
                     du_ptr, ddt_ptr, dA_ptr, dB_ptr, dC_ptr,
                     su_b, su_d, su_l, sdt_b, sdt_d, sdt_l, sA_d, sA_n, sB_b, sB_n, sB_l, sC_b, sC_n, sC_l,
                     sdy_b, sdy_d, sdy_l,
                     L, D, N, n_chunks,
                     BD: tl.constexpr, NP: tl.constexpr, K: tl.constexpr, ATOMIC: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    block = tl.program_id(1)
    d = block * BD + tl.arange(0, BD)  # (BD,)
    n = tl.arange(0, NP)  # (NP,)
    md, mn = d < D, n < N
    A = tl.load(A_ptr + d[:, None] * sA_d + n[None, :] * sA_n, mask=md[:, None] & mn[None, :], other=0.0)
    ck = ck_ptr + (b * n_chunks * D + d[:, None]) * NP + n[None, :]
    # scratch layout (B, n_blocks, K, BD, NP): this program's K recomputed states
    sc = sc_ptr + ((b * tl.num_programs(1) + block) * K * BD + tl.arange(0, BD)[:, None]) * NP + n[None, :]
    out = b * D * L + d * L  # du, ddt contiguous (B, D, L)
    bn = b * N * L + n * L  # dB, dC contiguous (B, N, L)
    dh = tl.zeros((BD, NP), dtype=tl.float32)  # ∂loss/∂h_t, carried backwards
    dA = tl.zeros((BD, NP), dtype=tl.float32)
    for ci in range(n_chunks):
        c = n_chunks - 1 - ci
        h0 = tl.load(ck + c * D * NP, mask=md[:, None], other=0.0)  # state before the chunk
        h = h0
        for k in range(K):  # recompute the chunk's states (steps past L leave h unchanged: Δ = x = 0)
            t = c * K + k
            m, mt = md & (d * 0 + t < L), mn & (n * 0 + t < L)  # (BD,), (NP,)
            u = tl.load(u_ptr + b * su_b + d * su_d + t * su_l, mask=m, other=0.0).to(tl.float32)
            dt = tl.load(dt_ptr + b * sdt_b + d * sdt_d + t * sdt_l, mask=m, other=0.0).to(tl.float32)
            Bt = tl.load(B_ptr + b * sB_b + n * sB_n + t * sB_l, mask=mt, other=0.0).to(tl.float32)
            h = tl.exp(dt[:, None] * A) * h + (dt * u)[:, None] * Bt[None, :]
            tl.store(sc + k * BD * NP, h)
        tl.debug_barrier()
        for kk in range(K):  # walk the chunk backwards
            k = K - 1 - kk
            t = c * K + k
            m, mt = md & (d * 0 + t < L), mn & (n * 0 + t < L)
            u = tl.load(u_ptr + b * su_b + d * su_d + t * su_l, mask=m, other=0.0).to(tl.float32)
            dt = tl.load(dt_ptr + b * sdt_b + d * sdt_d + t * sdt_l, mask=m, other=0.0).to(tl.float32)
            dy = tl.load(dy_ptr + b * sdy_b + d * sdy_d + t * sdy_l, mask=m, other=0.0).to(tl.float32)
            Bt = tl.load(B_ptr + b * sB_b + n * sB_n + t * sB_l, mask=mt, other=0.0).to(tl.float32)
            Ct = tl.load(C_ptr + b * sC_b + n * sC_n + t * sC_l, mask=mt, other=0.0).to(tl.float32)
            h_t = tl.load(sc + k * BD * NP)
            h_prev = tl.where(k > 0, tl.load(sc + tl.maximum(k - 1, 0) * BD * NP), h0)
            dh += dy[:, None] * Ct[None, :]  # y_t = Σ_n C_tn h_tn
            a = tl.exp(dt[:, None] * A)
            g = dh * a * h_prev  # ∂loss/∂(Δ_t A) through exp(Δ_t A) h_{t-1}
            dA += g * dt[:, None]
            tl.store(ddt_ptr + out + t, tl.sum(g * A + dh * u[:, None] * Bt[None, :], axis=1), mask=m)
            tl.store(du_ptr + out + t, tl.sum(dh * Bt[None, :], axis=1) * dt, mask=m)
            dB = tl.sum(dh * (dt * u)[:, None], axis=0)  # (NP,)
            dC = tl.sum(dy[:, None] * h_t, axis=0)  # (NP,)
            if ATOMIC:
                tl.atomic_add(dB_ptr + bn + t, dB, mask=mt)
                tl.atomic_add(dC_ptr + bn + t, dC, mask=mt)
            else:
                tl.store(dB_ptr + bn + t, dB, mask=mt)
                tl.store(dC_ptr + bn + t, dC, mask=mt)
            dh = dh * a
        tl.debug_barrier()
    tl.store(dA_ptr + (b * D + d[:, None]) * NP + n[None, :], dA, mask=md[:, None])  # (B, D, NP) partials


def _blocks(D: int, N: int, block_d: int | None = None, warps: int | None = None) -> tuple[int, int, int]:
    """(BD, NP, warps): channels per program, N padded to a power of 2, warps; None = the heuristic."""
    NP = triton.next_power_of_2(N)
    BD = min(triton.next_power_of_2(D), block_d or max(MAX_BLOCK_D * 32 // NP, 16), MAX_BLOCK_D)
    return BD, NP, warps or (8 if BD * NP >= 4096 else 4)


def forward(u, dt, A, B, C, save: bool, block_d: int | None = None, warps: int | None = None,
            k: int = K_CHUNK) -> tuple[torch.Tensor, torch.Tensor | None]:
    """y (B, D, L) and, with `save`, the states every k steps, ckpt (B, ceil(L/k), D, NP)."""
    batch, D, L = u.shape
    N = A.shape[1]
    BD, NP, warps = _blocks(D, N, block_d, warps)
    n_chunks = triton.cdiv(L, k)
    y = torch.empty(batch, D, L, device=u.device, dtype=torch.float32)  # (B, D, L)
    ckpt = torch.empty(batch, n_chunks, D, NP, device=u.device, dtype=torch.float32) if save else None
    _scan_fwd_kernel[(batch, triton.cdiv(D, BD))](
        u, dt, A, B, C, y, y if ckpt is None else ckpt, *u.stride(), *dt.stride(), *A.stride(), *B.stride(),
        *C.stride(), L, D, N, n_chunks, BD=BD, NP=NP, K=k, SAVE=save, num_warps=warps)
    return y, ckpt


def backward(u, dt, A, B, C, ckpt, dy, block_d: int | None = None, warps: int | None = None,
             k: int = K_CHUNK) -> tuple[torch.Tensor, ...]:
    """∂u, ∂Δ (B, D, L), ∂A (D, N), ∂B, ∂C (B, N, L) from dy (B, D, L) and `forward`'s ckpt (same k)."""
    batch, D, L = u.shape
    N = A.shape[1]
    BD, NP, warps = _blocks(D, N, block_d, warps)
    n_blocks = triton.cdiv(D, BD)
    f32 = {"device": u.device, "dtype": torch.float32}
    du, ddt = torch.empty(batch, D, L, **f32), torch.empty(batch, D, L, **f32)
    atomic = n_blocks > 1
    dB = (torch.zeros if atomic else torch.empty)(batch, N, L, **f32)
    dC = (torch.zeros if atomic else torch.empty)(batch, N, L, **f32)
    dA = torch.empty(batch, D, NP, **f32)
    scratch = torch.empty(batch, n_blocks, k, BD, NP, **f32)
    _scan_bwd_kernel[(batch, n_blocks)](
        u, dt, A, B, C, dy, ckpt, scratch, du, ddt, dA, dB, dC, *u.stride(), *dt.stride(), *A.stride(),
        *B.stride(), *C.stride(), *dy.stride(), L, D, N, ckpt.shape[1], BD=BD, NP=NP, K=k, ATOMIC=atomic,
        num_warps=warps)
    return du, ddt, dA.sum(0)[:, :N], dB, dC


class _SelectiveScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, dt, A, B, C):
        save = any(ctx.needs_input_grad)
        y, ckpt = forward(u, dt, A, B, C, save, *FWD_LAUNCH)
        if save:
            ctx.save_for_backward(u, dt, A, B, C, ckpt)
        return y

    @staticmethod
    def backward(ctx, dy):
        u, dt, A, B, C, ckpt = ctx.saved_tensors
        grads = backward(u, dt, A, B, C, ckpt, dy, *BWD_LAUNCH)
        return tuple(g.to(x.dtype) for g, x in zip(grads, (u, dt, A, B, C)))


def scan(u: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    """y (B, D, L), float32: Σ_n C_tn h_tn of the recurrence above; differentiable in all five inputs."""
    return _SelectiveScan.apply(u, dt, A, B, C)

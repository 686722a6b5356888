"""On a GPU: time our Triton scan's forward and backward kernels over launch settings (channels per
program, warps, steps between stored states) at one shape, check each against the default's result,
and print the best settings for `m2rec/scan_triton.py`'s FWD_LAUNCH / BWD_LAUNCH / K_CHUNK.

    python benchmarks/scan_tune.py                              # ML-1M training shape: B 2048, D 128, N 32, L 200
    python benchmarks/scan_tune.py --batch 128 --length 2000    # a long-sequence shape
"""
from __future__ import annotations

import argparse
import itertools

import torch
import triton

from m2rec import scan_triton


def median_ms(fn, repeats: int) -> float:
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def inputs(batch: int, D: int, N: int, L: int) -> list[torch.Tensor]:
    """The mixer's layout: u, Δ as (B, L, D) seen as (B, D, L); B, C as (B, L, N) seen as (B, N, L)."""
    g = torch.Generator(device="cuda").manual_seed(0)
    u = torch.randn(batch, L, D, device="cuda", generator=g).transpose(1, 2)
    dt = (torch.rand(batch, L, D, device="cuda", generator=g) * 0.1 + 0.001).transpose(1, 2)
    A = -torch.arange(1, N + 1, device="cuda", dtype=torch.float32).repeat(D, 1)  # mamba-ssm's init
    B = torch.randn(batch, L, N, device="cuda", generator=g).transpose(1, 2)
    C = torch.randn(batch, L, N, device="cuda", generator=g).transpose(1, 2)
    return [u, dt, A, B, C]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--d-inner", type=int, default=128)
    parser.add_argument("--d-state", type=int, default=32)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--block-d", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--warps", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--k", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    xs = inputs(args.batch, args.d_inner, args.d_state, args.length)
    dy = torch.randn(args.batch, args.d_inner, args.length, device="cuda")
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}; B={args.batch} "
          f"D={args.d_inner} N={args.d_state} L={args.length}; heuristic "
          f"{scan_triton._blocks(args.d_inner, args.d_state)[::2]} (block_d, warps), K={scan_triton.K_CHUNK}")
    y_ref, ckpt = scan_triton.forward(*xs, save=True)
    grads_ref = scan_triton.backward(*xs, ckpt, dy)
    default_fwd = median_ms(lambda: scan_triton.forward(*xs, save=True), args.repeats)
    default_bwd = median_ms(lambda: scan_triton.backward(*xs, ckpt, dy), args.repeats)
    print(f"heuristic: forward {default_fwd:.2f} ms, backward {default_bwd:.2f} ms")
    rows = []
    for block_d, warps, k in itertools.product(args.block_d, args.warps, args.k):
        if block_d > args.d_inner or block_d * triton.next_power_of_2(args.d_state) < 32 * warps:
            continue
        y, ck = scan_triton.forward(*xs, True, block_d, warps, k)
        grads = scan_triton.backward(*xs, ck, dy, block_d, warps, k)
        err = max([(y - y_ref).abs().max().item()]
                  + [((g - r).abs().max() / r.abs().max()).item() for g, r in zip(grads, grads_ref)])
        fwd = median_ms(lambda: scan_triton.forward(*xs, True, block_d, warps, k), args.repeats)
        bwd = median_ms(lambda: scan_triton.backward(*xs, ck, dy, block_d, warps, k), args.repeats)
        rows.append((block_d, warps, k, fwd, bwd, err))
        print(f"block_d {block_d:4d} warps {warps} k {k:3d}: forward {fwd:7.2f} ms  backward {bwd:7.2f} ms  "
              f"max rel diff {err:.1e}", flush=True)
    best_fwd = min((r for r in rows if r[2] == scan_triton.K_CHUNK), key=lambda r: r[3])
    best_bwd = min(rows, key=lambda r: r[4])
    best_pair = min(rows, key=lambda r: r[3] + r[4])
    print(f"best forward (K={scan_triton.K_CHUNK}): block_d {best_fwd[0]}, warps {best_fwd[1]}: {best_fwd[3]:.2f} ms "
          f"({best_fwd[3] / default_fwd:.2f}x the heuristic)")
    print(f"best backward: block_d {best_bwd[0]}, warps {best_bwd[1]}, k {best_bwd[2]}: {best_bwd[4]:.2f} ms "
          f"({best_bwd[4] / default_bwd:.2f}x the heuristic)")
    print(f"best same-setting pair: block_d {best_pair[0]}, warps {best_pair[1]}, k {best_pair[2]}: "
          f"{best_pair[3] + best_pair[4]:.2f} ms ({(best_pair[3] + best_pair[4]) / (default_fwd + default_bwd):.2f}x)")
    print(f"largest difference from the heuristic's result over all settings: {max(r[5] for r in rows):.1e}")


if __name__ == "__main__":
    main()

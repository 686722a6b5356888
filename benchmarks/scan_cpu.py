"""CPU speed of the pure-PyTorch selective scans, as ratios: ours (step loop) vs mambapy's parallel scan.

    OMP_NUM_THREADS=1 python benchmarks/scan_cpu.py          # needs `pip install mambapy` for the comparison
"""
import time

import torch

from m2rec.scan import _finish, _step_sizes, selective_scan_torch


def mambapy_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    from mambapy.pscan import pscan

    dt = _step_sizes(delta, delta_bias, delta_softplus)  # (B, D, L)
    deltaA = torch.exp(torch.einsum("bdl,dn->bldn", dt, A))  # (B, L, D, N)
    deltaB_u = torch.einsum("bdl,bnl,bdl->bldn", dt, B, u)  # (B, L, D, N)
    y = torch.einsum("bldn,bnl->bdl", pscan(deltaA, deltaB_u), C)  # (B, D, L)
    return _finish(y, u, D, z)


def fwd_bwd_seconds(fn, args, repeats=3):
    times = []
    for _ in range(repeats):
        leaves = {k: v.clone().requires_grad_(True) for k, v in args.items()}
        start = time.perf_counter()
        fn(**leaves, delta_softplus=True).square().sum().backward()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    torch.manual_seed(0)
    print(f"{'B':>5} {'D':>4} {'N':>3} {'L':>4}  {'ours s':>7} {'mambapy s':>9}  mambapy/ours")
    for batch, d_inner, d_state, length in [(256, 128, 32, 20), (256, 128, 32, 50), (256, 128, 32, 200)]:
        args = dict(u=torch.randn(batch, d_inner, length), delta=torch.randn(batch, d_inner, length),
                    A=-torch.rand(d_inner, d_state), B=torch.randn(batch, d_state, length),
                    C=torch.randn(batch, d_state, length), D=torch.randn(d_inner),
                    z=torch.randn(batch, d_inner, length), delta_bias=torch.randn(d_inner))
        ours = fwd_bwd_seconds(selective_scan_torch, args)
        try:
            other = fwd_bwd_seconds(mambapy_scan, args)
        except ImportError:
            print(f"{batch:>5} {d_inner:>4} {d_state:>3} {length:>4}  {ours:7.3f}   (pip install mambapy to compare)")
            continue
        print(f"{batch:>5} {d_inner:>4} {d_state:>3} {length:>4}  {ours:7.3f} {other:9.3f}  {other / ours:6.2f}x")


if __name__ == "__main__":
    main()

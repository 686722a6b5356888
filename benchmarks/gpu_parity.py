"""On a GPU with mamba-ssm: our mixer with the pure-PyTorch and the Triton scan against mamba-ssm's Mamba
(same weights, fp32), and the time of one forward+backward of each at the paper's ML-1M shape.

    python benchmarks/gpu_parity.py        # prints max |diff| (output, input grad, weight grads) and ms
"""
import torch

from m2rec.mixer import MambaMixer, causal_conv1d_fn


BACKENDS = ("torch", "triton")  # ours, each compared with mamba-ssm ("cuda")


def max_abs_diffs(batch: int, seq_len: int, backend: str) -> tuple[float, float, float]:
    from mamba_ssm import Mamba

    torch.manual_seed(0)
    ref = Mamba(d_model=64, d_state=32, d_conv=4, expand=2).cuda()
    ours = MambaMixer(d_model=64, d_state=32, d_conv=4, expand=2, backend=backend).cuda()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(batch, seq_len, 64, device="cuda", requires_grad=True)
    y_ref = ref(x)
    g_ref = torch.autograd.grad(y_ref.square().sum(), [x, *ref.parameters()])
    y = ours(x)
    g = torch.autograd.grad(y.square().sum(), [x, *ours.parameters()])
    rel = max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(g[1:], g_ref[1:]))
    return (y - y_ref).abs().max().item(), (g[0] - g_ref[0]).abs().max().item(), rel


def fwd_bwd_ms(module: torch.nn.Module, x: torch.Tensor, repeats: int = 10) -> float:
    for _ in range(3):
        module(x).sum().backward()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        module(x).sum().backward()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def main() -> None:
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, "
          f"causal-conv1d: {'yes' if causal_conv1d_fn is not None else 'no'}")
    for backend in BACKENDS:
        for batch, seq_len in [(8, 50), (8, 200), (64, 200)]:
            out, grad_x, grad_w = max_abs_diffs(batch, seq_len, backend)
            print(f"parity {backend} B={batch} L={seq_len}: max|Δy|={out:.2e}  max|Δ∂x|={grad_x:.2e}  "
                  f"max relative Δ∂W={grad_w:.2e}")
    x = torch.randn(2048, 200, 64, device="cuda", requires_grad=True)
    timings = {}
    for backend in ("cuda", *BACKENDS):
        torch.manual_seed(0)
        timings[backend] = fwd_bwd_ms(MambaMixer(64, 32, 4, 2, backend=backend).cuda(), x)
    print(f"fwd+bwd B=2048 L=200 d=64: mamba-ssm kernels {timings['cuda']:.1f} ms, " + ", ".join(
        f"{backend} {timings[backend]:.1f} ms ({timings[backend] / timings['cuda']:.2f}x)" for backend in BACKENDS))


if __name__ == "__main__":
    main()

"""Adaptive Fourier filter of the AFFM block (paper Sec. III-D, Eq. 10-13).

    X̂ = rfft(X, n=L, dim=time)                 Eq. 11   (B, F, d), F = L // 2 + 1 bins
    X̂' = X̂ ⊙ M                                 Eq. 12   M: 0/1 low-pass mask over the bins
    X̃ = irfft(W ⊙ X̂', n=L, dim=time)           Eq. 10, 13   W: learnable complex (F, d)

Glossary (code -> paper):
    cut_ratio   θ    fraction of the band [0, Nyquist] that is kept (θ = 1 keeps every bin)
    mask        M    (F,) 0/1 buffer, M[k] = 1 iff k / L <= θ / 2
    weight      W    (F, d) complex, stored as real pairs (F, d, 2); initialised to 1 + 0j
    adaptive         False = the paper's "w/o Ada": fixed mask, no learnable W

Beyond the paper (the seeds' open questions): `mask_type: soft` replaces the 0/1 mask by
M[k] = σ((θ L / 2 - k) / softness), a ramp `softness` bins wide around the cut; `cut_ratio: learn`
makes θ a parameter (θ = σ(cut_logit), starting at `cut_ratio_init`), learned by gradient through
the soft mask.

The filter runs over the sequence (time) axis: each channel is filtered on its own. It mixes
positions, so padded positions are zeroed first (`pad_mask`): the output at a real position then
does not depend on what fills the padding.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def lowpass_mask(seq_len: int, cut_ratio: float) -> torch.Tensor:
    """M of Eq. 12: 1.0 for rfft bins k with k / seq_len <= cut_ratio / 2 (bin 0 always kept)."""
    if not 0.0 < cut_ratio <= 1.0:
        raise ValueError(f"cut_ratio (θ) must be in (0, 1], got {cut_ratio}; 1 keeps every frequency")
    n_bins = seq_len // 2 + 1
    last_kept = math.floor(cut_ratio * seq_len / 2 + 1e-9)
    return (torch.arange(n_bins) <= last_kept).float()  # (F,)


MASK_TYPES = ("hard", "soft")


def soft_mask(seq_len: int, cut_ratio: torch.Tensor, softness: float) -> torch.Tensor:
    """Smooth M: σ((θ L / 2 - k) / softness) for rfft bins k; differentiable in θ."""
    bins = torch.arange(seq_len // 2 + 1, device=cut_ratio.device, dtype=torch.float32)
    return torch.sigmoid((cut_ratio * seq_len / 2 - bins) / softness)  # (F,)


class FourierFilter(nn.Module):
    """Eq. 10-13 over the time axis of a (B, L, d) tensor."""

    def __init__(self, seq_len: int, d_model: int, cut_ratio: float | str = 0.1, adaptive: bool = True,
                 mask_type: str = "hard", softness: float = 1.0, cut_ratio_init: float = 0.1):
        super().__init__()
        if mask_type not in MASK_TYPES:
            raise ValueError(f"mask_type must be one of {MASK_TYPES}, got {mask_type!r}")
        learned = cut_ratio == "learn"
        if isinstance(cut_ratio, str) and not learned:
            raise ValueError(f"cut_ratio must be a number in (0, 1] or 'learn', got {cut_ratio!r}")
        theta = cut_ratio_init if learned else cut_ratio
        hard_mask = lowpass_mask(seq_len, theta)  # (F,); validates θ
        self.seq_len = seq_len
        self.softness = softness
        if learned:
            self.cut_logit = nn.Parameter(torch.logit(torch.tensor(float(theta))))
            self.register_buffer("mask", None)  # recomputed from θ: current_mask()
        else:
            self.register_parameter("cut_logit", None)
            soft = mask_type == "soft"
            self.register_buffer("mask", soft_mask(seq_len, torch.tensor(float(theta)), softness) if soft else hard_mask)
        if adaptive:
            weight = torch.zeros(seq_len // 2 + 1, d_model, 2)
            weight[..., 0] = 1.0
            self.weight = nn.Parameter(weight)  # (F, d, 2): real and imaginary parts of W
        else:
            self.register_parameter("weight", None)

    def cut_ratio(self) -> torch.Tensor:
        """θ: learned (σ(cut_logit)) or fixed."""
        if self.cut_logit is None:
            raise AttributeError("this filter's θ is fixed; it is not a parameter")
        return torch.sigmoid(self.cut_logit)

    def current_mask(self) -> torch.Tensor:
        """M (F,): the fixed buffer, or the soft mask of the learned θ."""
        if self.cut_logit is None:
            return self.mask
        return soft_mask(self.seq_len, self.cut_ratio(), self.softness)

    def response(self) -> torch.Tensor:
        """W ⊙ M as a complex (F, d) tensor (a (F, 1) mask when not adaptive)."""
        mask = self.current_mask()[:, None].to(torch.complex64)
        if self.weight is None:
            return mask
        return torch.view_as_complex(self.weight.float()) * mask

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, L, d); pad_mask: (B, L), True at real items
        if pad_mask is not None:
            x = x * pad_mask[..., None].to(x.dtype)
        spectrum = torch.fft.rfft(x.float(), n=self.seq_len, dim=1)  # (B, F, d)  Eq. 11
        filtered = spectrum * self.response()  # (B, F, d)  Eq. 12 and W of Eq. 10/13
        return torch.fft.irfft(filtered, n=self.seq_len, dim=1).to(x.dtype)  # (B, L, d)  Eq. 13

"""One AFFM encoder layer (paper Sec. III-D, Alg. 2 lines 4-13), laid out as Mamba4Rec's layer:

    H = MambaMixer(X)                                   # Eq. 14-15 (+ the inner Fourier filter)
    H = LayerNorm(Dropout(H))          one layer        # Mamba4Rec: no residual for a single layer
    H = LayerNorm(Dropout(H) + X)      stacked layers   # residual when num_layers > 1
    out = LayerNorm(H + Dropout(W2 · Dropout(GELU(W1 · H))))   # position-wise FFN, 4d inner size

With `last` (B,) the layer returns only the position each sequence is scored at, (B, d): the mixer runs
its recurrence over the whole sequence and everything position-wise after it runs at `last` only.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from m2rec.mixer import MambaMixer


class FeedForward(nn.Module):
    def __init__(self, d_model: int, inner_size: int, dropout: float, eps: float = 1e-12):
        super().__init__()
        self.w_1 = nn.Linear(d_model, inner_size)
        self.w_2 = nn.Linear(inner_size, d_model)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.LayerNorm = nn.LayerNorm(d_model, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, L, d)
        h = self.dropout(self.activation(self.w_1(x)))  # (B, L, inner)
        h = self.dropout(self.w_2(h))  # (B, L, d)
        return self.LayerNorm(h + x)


class MambaLayer(nn.Module):
    def __init__(self, mixer: MambaMixer, d_model: int, dropout: float, residual: bool):
        super().__init__()
        self.mamba = mixer
        self.residual = residual
        self.dropout = nn.Dropout(dropout)
        self.LayerNorm = nn.LayerNorm(d_model, eps=1e-12)
        self.ffn = FeedForward(d_model, 4 * d_model, dropout)

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor | None = None,
                last: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, L, d); pad_mask: (B, L), True at real items; last: (B,) or None -> (B, d) or (B, L, d)
        h = self.dropout(self.mamba(x, pad_mask, last))  # (B, L, d) or (B, d)
        if self.residual:
            h = h + (x if last is None else x[torch.arange(x.shape[0], device=x.device), last])
        return self.ffn(self.LayerNorm(h))

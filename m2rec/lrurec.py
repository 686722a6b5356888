"""LRURec (Yue et al., "Linear Recurrent Units for Sequential Recommendation", WSDM 2024) for RecBole.

The LRU layer (Orvieto et al., 2023, as LRURec uses it) on real inputs u_t (d), complex
state h_t (H = 2d), eigenvalues λ on a ring of the unit disc:

    λ   = exp(-exp(ν) + i·exp(θ))                     diagonal recurrence, |λ| < 1
    h_t = λ ⊙ h_{t-1} + γ ⊙ (B u_t),   γ = exp(γ_log)  γ initialised to sqrt(1 - |λ|²)
    y_t = LayerNorm(Dropout(Re(C h_t)) + u_t)           residual in place of LRU's D u_t
    out = LayerNorm(y + Dropout(W2 · Dropout(GELU(W1 · y))))   position-wise FFN, 4d inner size

Ring initialisation: |λ|² uniform in [r_min², r_max²] (ν = log(-½ log |λ|²)), phase θ uniform
in [0, 2π). B and C are complex; they are stored as real Linear layers on [Re; Im] (in_proj
d -> 2H gives Re(Bu) and Im(Bu), out_proj 2H -> d computes Re(C h) = C_re h_re - C_im h_im).

The recurrence runs two ways, with the same result (tests/test_lrurec.py):
- `lru_parallel`: log-depth recursive doubling (Hillis-Steele scan): after step j every h_t sums
  the last 2^j inputs, h_t += λ^(2^j) h_{t-2^j}; ⌈log2 L⌉ steps, any L, pure PyTorch. Training
  and full-sequence evaluation use it.
- `lru_recurrent`: the step loop. `LRURec.step` uses the recurrence for incremental inference:
  one new item updates the cached states in O(1), without re-reading the history.

Model: E[item_seq] -> LayerNorm(Dropout(·)) -> num_layers × (LRU layer, FFN) -> state at the
last real item; scores = user · E^T + b_item (tied embeddings plus an item bias, as the official
code's prediction layer), CE over all items (RecBole's protocol) or BPR.

Padding: the official code left-pads and stops the scan's carry at padded positions. RecBole
right-pads; every operation here is causal (the scan) or position-wise (projections, LayerNorm,
FFN), so the output at item_seq_len - 1 never sees the padding after it and no mask is needed.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from m2rec.encoder import FeedForward
from m2rec.scoring import TiedScoring, make_loss



def lru_parallel(lamb: torch.Tensor, bu: torch.Tensor) -> torch.Tensor:
    """h_t = lamb ⊙ h_{t-1} + bu_t with h_{-1} = 0, by recursive doubling over the sequence.

    lamb: (H,) complex; bu: (B, L, H) complex -> h: (B, L, H) complex.
    """
    h = bu
    power = lamb  # lamb^(2^j)
    offset = 1
    while offset < h.shape[1]:
        h = torch.cat([h[:, :offset], h[:, offset:] + power * h[:, :-offset]], dim=1)  # (B, L, H)
        power = power * power
        offset *= 2
    return h


def lru_recurrent(lamb: torch.Tensor, bu: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """The same recurrence one step at a time.  lamb: (H,); bu: (B, L, H); h0: (B, H) -> (B, L, H)."""
    h = bu.new_zeros(bu.shape[0], bu.shape[2]) if h0 is None else h0  # (B, H)
    states = []
    for t in range(bu.shape[1]):
        h = lamb * h + bu[:, t]  # (B, H)
        states.append(h)
    return torch.stack(states, dim=1)  # (B, L, H)


class LRULayer(nn.Module):
    """One linear recurrent unit with LRURec's residual + LayerNorm; complex state size 2 * d_model."""

    def __init__(self, d_model: int, dropout: float, r_min: float, r_max: float, eps: float = 1e-5):
        super().__init__()
        if not 0.0 <= r_min < r_max <= 1.0:
            raise ValueError(f"need 0 <= r_min < r_max <= 1 for the eigenvalue ring, got r_min={r_min}, r_max={r_max}")
        self.state_size = 2 * d_model
        u1, u2 = torch.rand(self.state_size), torch.rand(self.state_size)
        nu_log = torch.log(-0.5 * torch.log(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2))  # (H,)
        theta_log = torch.log(2 * math.pi * u2)  # (H,)
        modulus = torch.exp(-torch.exp(nu_log))  # |λ|, (H,)
        self.nu_log = nn.Parameter(nu_log)
        self.theta_log = nn.Parameter(theta_log)
        self.gamma_log = nn.Parameter(torch.log(torch.sqrt(1 - modulus ** 2)))
        self.in_proj = nn.Linear(d_model, 2 * self.state_size)  # [Re(Bu); Im(Bu)]
        self.out_proj = nn.Linear(2 * self.state_size, d_model)  # Re(C h) from [Re h; Im h]
        self.dropout = nn.Dropout(dropout)
        self.LayerNorm = nn.LayerNorm(d_model, eps=eps)

    def eigenvalues(self) -> torch.Tensor:
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))  # (H,)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        """γ ⊙ B x.  x: (..., d) -> (..., H) complex."""
        re, im = self.in_proj(x).chunk(2, dim=-1)
        return torch.complex(re, im) * torch.exp(self.gamma_log)

    def _output(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """LayerNorm(Dropout(Re(C h)) + x).  h: (..., H) complex; x: (..., d) -> (..., d)."""
        y = self.out_proj(torch.cat([h.real, h.imag], dim=-1))
        return self.LayerNorm(self.dropout(y) + x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, L, d)
        h = lru_parallel(self.eigenvalues(), self._input(x))  # (B, L, H)
        return self._output(h, x)  # (B, L, d)

    def step(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One position.  x: (B, d); h: (B, H) state before it -> (output (B, d), new state (B, H))."""
        h = self.eigenvalues() * h + self._input(x)
        return self._output(h, x), h


class LRUBlock(nn.Module):
    def __init__(self, d_model: int, dropout: float, r_min: float, r_max: float):
        super().__init__()
        self.lru = LRULayer(d_model, dropout, r_min, r_max)
        self.ffn = FeedForward(d_model, 4 * d_model, dropout, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ffn(self.lru(x))  # (B, L, d)

    def step(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.lru.step(x, h)  # (B, d), (B, H)
        return self.ffn(y), h


class LRURec(TiedScoring):
    def __init__(self, config, dataset):
        super().__init__(config, dataset)

        self.hidden_size = config["hidden_size"]
        self.num_layers = config["num_layers"]
        self.dropout_prob = config["dropout_prob"]
        self.r_min = config["r_min"]
        self.r_max = config["r_max"]
        self.initializer_range = config["initializer_range"]
        self.loss_type = config["loss_type"]

        self.item_embedding = nn.Embedding(self.n_items, self.hidden_size, padding_idx=0)
        self.item_bias = nn.Parameter(torch.zeros(self.n_items))
        self.LayerNorm = nn.LayerNorm(self.hidden_size)
        self.dropout = nn.Dropout(self.dropout_prob)
        self.blocks = nn.ModuleList(
            LRUBlock(self.hidden_size, self.dropout_prob, self.r_min, self.r_max) for _ in range(self.num_layers)
        )
        self.loss_fct = make_loss(self.loss_type, "LRURec")
        self._init_weights()

    def _init_weights(self) -> None:
        """The official code's init: every parameter ~ N(0, σ²) truncated to ±2σ (σ = initializer_range),
        except LayerNorms (1 / 0) and the eigenvalue parameters ν, θ, γ (ring initialisation above)."""
        ring = {"nu_log", "theta_log", "gamma_log"}
        for name, param in self.named_parameters():
            if "LayerNorm" in name or name.rsplit(".", 1)[-1] in ring:
                continue
            nn.init.trunc_normal_(param, std=self.initializer_range,
                                  a=-2 * self.initializer_range, b=2 * self.initializer_range)

    def _embed(self, items: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.item_embedding(items)))

    def encode(self, item_seq: torch.Tensor) -> torch.Tensor:
        """The output at every position.  item_seq: (B, L) right-padded with 0 -> (B, L, d)."""
        x = self._embed(item_seq)  # (B, L, d)
        for block in self.blocks:
            x = block(x)  # (B, L, d)
        return x

    def forward(self, item_seq: torch.Tensor, item_seq_len: torch.Tensor) -> torch.Tensor:
        return self.gather_indexes(self.encode(item_seq), item_seq_len - 1)  # (B, d)

    def init_state(self, batch_size: int) -> list[torch.Tensor]:
        """Zero recurrent states, one (B, H) complex tensor per layer, for `step`."""
        weight = self.item_embedding.weight
        return [torch.complex(*2 * [weight.new_zeros(batch_size, block.lru.state_size)]) for block in self.blocks]

    def step(self, items: torch.Tensor, states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Incremental inference: the next item of each user -> (user representation (B, d), new states).

        items: (B,). Feeding a sequence one item at a time from `init_state` gives, at every step, what
        `forward` gives for the prefix read so far (in eval mode)."""
        x = self._embed(items)  # (B, d)
        new_states = []
        for block, h in zip(self.blocks, states):
            x, h = block.step(x, h)  # (B, d), (B, H)
            new_states.append(h)
        return x, new_states

    def item_bias_of(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """LRURec's learned per-item score bias.  -> (n_items,) or (B,)."""
        return self.item_bias if items is None else self.item_bias[items]

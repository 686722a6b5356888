"""RecMamba (Yang et al., "Uncovering Selective State Space Model's Capabilities in Lifelong Sequential
Recommendation", arXiv 2403.16371, 2024) for RecBole.

The paper models lifelong sequences (length >= 2000) with Mamba blocks in place of SASRec's
self-attention blocks; its released code (github.com/nancheng58/RecMamba, `MambaRec`) fixes the
details. Notation: B batch, L = MAX_ITEM_LIST_LENGTH, d hidden size.

    X = Dropout(E[item_seq] · sqrt(d) + P[pos])     SASRec's embedding layer: item + learned position
    X = Mamba(X)  (num_layers times)               selective SSM block (Gu & Dao), no norm, no FFN
    user = X[item_seq_len - 1];  scores = user · E^T     tied item embeddings

The Mamba block is `m2rec.mixer.MambaMixer` (mamba-ssm's parameters; its CUDA kernels on a GPU, the
pure-PyTorch scan elsewhere). Initialisation as the official `main.py`: Xavier-normal on every
Linear, Conv1d and Embedding weight, except that Mamba's own A_log and Δ (dt_proj) keep mamba-ssm's
initialisation (docs/baselines.md, "RecMamba: what we had to guess").

Positions: the official data are left-padded, so the last item always has position L - 1 and
positions count back from it. RecBole right-pads; we give item t of a sequence of length n the
position t + L - n, which is what left padding would give it. Mamba is causal, so the padding after
the last item never reaches the output at item_seq_len - 1.

Loss: the paper trains with SASRec's binary cross-entropy on one sampled negative per position;
under RecBole's protocol (DESIGN.md) we train, like every baseline, with CE over all items at the
last position (or BPR with loss_type: BPR).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from m2rec.mixer import MambaMixer
from m2rec.scoring import TiedScoring, make_loss

class RecMamba(TiedScoring):
    def __init__(self, config, dataset):
        super().__init__(config, dataset)

        self.hidden_size = config["hidden_size"]
        self.num_layers = config["num_layers"]
        self.dropout_prob = config["dropout_prob"]
        self.d_state = config["d_state"]
        self.d_conv = config["d_conv"]
        self.expand = config["expand"]
        self.mamba_backend = config["mamba_backend"]
        self.loss_type = config["loss_type"]
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {self.num_layers}")

        self.item_embedding = nn.Embedding(self.n_items, self.hidden_size, padding_idx=0)
        self.position_embedding = nn.Embedding(self.max_seq_length, self.hidden_size)
        self.dropout = nn.Dropout(self.dropout_prob)
        self.layers = nn.ModuleList(
            MambaMixer(d_model=self.hidden_size, d_state=self.d_state, d_conv=self.d_conv, expand=self.expand,
                       backend=self.mamba_backend)
            for _ in range(self.num_layers)
        )
        self.loss_fct = make_loss(self.loss_type, "RecMamba")
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """Xavier-normal weights (the official main.py); mamba-ssm's own dt_proj and A_log init is kept."""
        if isinstance(module, MambaMixer):
            for layer in (module.in_proj, module.conv1d, module.x_proj, module.out_proj):
                nn.init.xavier_normal_(layer.weight)
        elif isinstance(module, nn.Embedding):
            nn.init.xavier_normal_(module.weight)

    def positions(self, item_seq_len: torch.Tensor) -> torch.Tensor:
        """Left-padding positions for right-padded sequences: item t of n gets t + L - n.  -> (B, L)."""
        L = self.max_seq_length
        t = torch.arange(L, device=item_seq_len.device)  # (L,)
        return (t[None, :] + L - item_seq_len[:, None]).clamp(max=L - 1)  # (B, L), padding clamped

    def encode(self, item_seq: torch.Tensor, item_seq_len: torch.Tensor,
               last: torch.Tensor | None = None) -> torch.Tensor:
        """The output at every position (B, L, d), or with `last` (B,) only there (B, d): the last
        mixer's position-wise tail then runs on one row per sequence.  item_seq: (B, L) right-padded."""
        x = self.item_embedding(item_seq) * self.hidden_size ** 0.5  # (B, L, d)
        x = self.dropout(x + self.position_embedding(self.positions(item_seq_len)))  # (B, L, d)
        *body, top = self.layers
        for mixer in body:
            x = mixer(x)  # (B, L, d)
        return top(x, last=last)  # (B, L, d) or (B, d)

    def forward(self, item_seq: torch.Tensor, item_seq_len: torch.Tensor) -> torch.Tensor:
        return self.encode(item_seq, item_seq_len, item_seq_len - 1)  # (B, d)

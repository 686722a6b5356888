"""M2Rec (paper Sec. III, Alg. 1) as a RecBole `SequentialRecommender`; Mamba4Rec as its configuration.

    E_id = Embedding(item_seq)                           # Eq. 8, (B, L, d), padding id 0
    X    = LayerNorm(Dropout(E_id))
    X    = FourierFilter(X)                              # Eq. 10-13, filter_position: input
    E(m) = MambaLayer^num_layers(X)                      # Eq. 14-15 (filter inside with 'inner')
    E(l) = Linear(T[item_seq])                           # Sec. III-C, T frozen (n_items, D_t)
    Y    = Fusion(E(l), E(m))                            # Eq. 16
    user = Y[item_seq_len - 1];  scores = user · E_idᵀ  # tied output, CE (Eq. 17's task) or BPR

Only Y at item_seq_len - 1 is ever scored, and everything after the last layer's scan is position-wise
(the gate, out_proj, the FFN, E(l), Eq. 16), so those run at that one position: `last` below. The
result is the same function, computed on B rows instead of B·L (docs/performance.md measures it).

Every ablation of Fig. 4 is a config value (see configs/model/M2Rec.yaml): `fusion: none`
("w/o GM"), `fusion: concat` ("rp Con"), `fusion: sum`, `filter_adaptive: false` ("w/o Ada"),
`filter_position: none` ("w/o AFFT"). With `filter_position: none` and `fusion: none` the network
is Mamba4Rec's, which the class `Mamba4Rec` pins.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from m2rec.encoder import MambaLayer
from m2rec.filter import FourierFilter
from m2rec.fusion import Fusion
from m2rec.mixer import MambaMixer
from m2rec.scoring import TiedScoring, make_loss
from m2rec.text import item_text_table

FILTER_POSITIONS = ("input", "inner", "none")
DT_BIAS_INITS = ("mamba_ssm", "zero")


class M2Rec(TiedScoring):
    def __init__(self, config, dataset):
        super().__init__(config, dataset)

        self.hidden_size = config["hidden_size"]
        self.num_layers = config["num_layers"]
        self.dropout_prob = config["dropout_prob"]
        self.d_state = config["d_state"]
        self.d_conv = config["d_conv"]
        self.expand = config["expand"]
        self.filter_position = config["filter_position"]
        self.cut_ratio = config["cut_ratio"]
        self.filter_adaptive = config["filter_adaptive"]
        self.mask_type = config["mask_type"]
        self.mask_softness = config["mask_softness"]
        self.cut_ratio_init = config["cut_ratio_init"]
        self.fusion_type = config["fusion"]
        self.gate_form = config["gate_form"]
        self.gate_alpha_init = config["gate_alpha_init"]
        self.gate_beta_init = config["gate_beta_init"]
        self.mamba_backend = config["mamba_backend"]
        self.initializer_range = config["initializer_range"]
        self.init_dt_bias = config["init_dt_bias"]
        self.loss_type = config["loss_type"]

        if self.filter_position not in FILTER_POSITIONS:
            raise ValueError(f"filter_position must be one of {FILTER_POSITIONS}, got {self.filter_position!r}")
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {self.num_layers}")
        if self.init_dt_bias not in DT_BIAS_INITS:
            raise ValueError(f"init_dt_bias must be one of {DT_BIAS_INITS}, got {self.init_dt_bias!r}")

        self.item_embedding = nn.Embedding(self.n_items, self.hidden_size, padding_idx=0)
        self.LayerNorm = nn.LayerNorm(self.hidden_size, eps=1e-12)
        self.dropout = nn.Dropout(self.dropout_prob)
        self.input_filter = self._filter(self.hidden_size) if self.filter_position == "input" else None
        self.layers = nn.ModuleList(
            MambaLayer(self._mixer(), self.hidden_size, self.dropout_prob, residual=self.num_layers > 1)
            for _ in range(self.num_layers)
        )

        self.fusion = Fusion(self.hidden_size, self.fusion_type, self.gate_form,
                             self.gate_alpha_init, self.gate_beta_init)
        if self.fusion_type == "none":
            self.text_proj = None
        else:
            table = item_text_table(config, dataset)  # (n_items, D_t), row 0 = padding = zeros
            self.register_buffer("text_table", table.float(), persistent=False)
            self.text_proj = nn.Linear(table.shape[1], self.hidden_size)

        self.loss_fct = make_loss(self.loss_type, type(self).__name__)

        self.apply(self._init_weights)
        self.fusion.reset_gate()

    def _filter(self, width: int) -> FourierFilter:
        return FourierFilter(self.max_seq_length, width, self.cut_ratio, self.filter_adaptive,
                             self.mask_type, self.mask_softness, self.cut_ratio_init)

    def _mixer(self) -> MambaMixer:
        inner = self._filter(self.expand * self.hidden_size) if self.filter_position == "inner" else None
        return MambaMixer(d_model=self.hidden_size, d_state=self.d_state, d_conv=self.d_conv,
                          expand=self.expand, backend=self.mamba_backend, inner_filter=inner)

    def _init_weights(self, module: nn.Module) -> None:
        """Mamba4Rec's init: Linear/Embedding weights N(0, initializer_range), biases 0, LayerNorm 1/0.
        mamba-ssm's Δ bias (`_no_reinit`) is kept unless init_dt_bias: zero (Mamba4Rec's code)."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=self.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)
        if isinstance(module, nn.Linear) and module.bias is not None:
            if not getattr(module.bias, "_no_reinit", False) or self.init_dt_bias == "zero":
                module.bias.data.zero_()

    def _embed(self, item_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(X, pad_mask): the filtered input embedding (B, L, d) and (B, L), True at real items."""
        pad_mask = item_seq > 0  # (B, L)
        x = self.LayerNorm(self.dropout(self.item_embedding(item_seq)))  # (B, L, d)  Eq. 8
        if self.input_filter is not None:
            x = self.input_filter(x, pad_mask)  # (B, L, d)  Eq. 10-13
        return x, pad_mask

    def _text(self, items: torch.Tensor) -> torch.Tensor | None:
        """E(l) of `items` (any shape S) -> (*S, d); None without a semantic branch."""
        return self.text_proj(self.text_table[items]) if self.text_proj is not None else None

    def forward(self, item_seq: torch.Tensor, item_seq_len: torch.Tensor) -> torch.Tensor:
        # item_seq: (B, L) right-padded with 0; item_seq_len: (B,)
        x, pad_mask = self._embed(item_seq)  # (B, L, d)
        last = item_seq_len - 1  # (B,) the position each sequence is scored at
        *body, top = self.layers
        for layer in body:
            x = layer(x, pad_mask)  # (B, L, d)
        x = top(x, pad_mask, last)  # (B, d)  E(m) at `last`, Eq. 14-15
        items = item_seq.gather(1, last[:, None]).squeeze(1)  # (B,)
        return self.fusion(self._text(items), x)  # (B, d)  Eq. 16

    def sequence_output(self, item_seq: torch.Tensor) -> torch.Tensor:
        """Y at every position, (B, L, d): the reference `forward` is tested against (forward is this at
        item_seq_len - 1), and what per-position analyses read."""
        x, pad_mask = self._embed(item_seq)
        for layer in self.layers:
            x = layer(x, pad_mask)  # (B, L, d)
        return self.fusion(self._text(item_seq), x)  # (B, L, d)


class Mamba4Rec(M2Rec):
    """Mamba4Rec (Liu et al., 2024): M2Rec with no Fourier filter and no semantic branch."""

    def __init__(self, config, dataset):
        if config["filter_position"] != "none" or config["fusion"] != "none":
            raise ValueError("Mamba4Rec has no Fourier filter and no semantic branch (filter_position: none, "
                             "fusion: none); for other settings use --model M2Rec")
        super().__init__(config, dataset)

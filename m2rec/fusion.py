"""Fusion of the semantic and sequence branches (paper Sec. III-E, Eq. 16).

    Y = Linear(α ⊙ E(l) + β ⊙ E(m))                                  Eq. 16

E(l) = Linear(T[item_seq]) projects the frozen text embeddings (B, L, D_t) -> (B, L, d);
E(m) is the AFFM encoder's output (B, L, d). Glossary: `alpha`/`beta` are α and β of Eq. 16.

`fusion` (config) selects the operator; the paper's Fig. 4 ablations are its values:
    gate     Eq. 16 with the `gate_form` below                      (M2Rec)
    concat   Linear([E(l); E(m)]), 2d -> d                          ("rp Con")
    sum      Linear(E(l) + E(m))                                    ("sum")
    none     E(m) alone, no semantic branch, no output Linear       ("w/o GM"; Mamba4Rec)
`gate_form` (only for fusion: gate):
    scalar   α, β: one learnable number each
    channel  α, β: one learnable number per channel, (d,) each
    context  α = σ(W_g [E(l); E(m)] + b_g), β = 1 - α, per position and channel
Initialisation is explicit: scalar/channel start at α = gate_alpha_init, β = gate_beta_init;
context starts with b_g = logit(gate_alpha_init / (gate_alpha_init + gate_beta_init)) and
W_g ~ N(0, 0.02) (the model's init), so it too starts near that ratio.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

FUSIONS = ("gate", "concat", "sum", "none")
GATE_FORMS = ("scalar", "channel", "context")


class Fusion(nn.Module):
    def __init__(self, d_model: int, fusion: str = "gate", gate_form: str = "channel",
                 alpha_init: float = 0.5, beta_init: float = 0.5):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if fusion == "gate" and gate_form not in GATE_FORMS:
            raise ValueError(f"gate_form must be one of {GATE_FORMS}, got {gate_form!r}")
        if fusion == "gate" and gate_form == "context" and min(alpha_init, beta_init) <= 0:
            raise ValueError("gate_form: context needs gate_alpha_init > 0 and gate_beta_init > 0")
        self.fusion = fusion
        self.gate_form = gate_form if fusion == "gate" else None
        if fusion == "none":
            return
        self.out = nn.Linear(2 * d_model if fusion == "concat" else d_model, d_model)  # Linear of Eq. 16
        if self.gate_form == "context":
            self.gate = nn.Linear(2 * d_model, d_model)
            self.gate_bias_init = math.log(alpha_init / beta_init)  # logit(α0 / (α0 + β0))
        elif self.gate_form in ("scalar", "channel"):
            shape = (1,) if self.gate_form == "scalar" else (d_model,)
            self.alpha = nn.Parameter(torch.full(shape, float(alpha_init)))
            self.beta = nn.Parameter(torch.full(shape, float(beta_init)))

    def reset_gate(self) -> None:
        """Set the context gate's bias to its explicit initial value (after the model's init)."""
        if self.gate_form == "context":
            nn.init.constant_(self.gate.bias, self.gate_bias_init)

    def weights(self, text: torch.Tensor, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """α and β of Eq. 16, broadcastable to (B, L, d)."""
        if self.gate_form == "context":
            alpha = torch.sigmoid(self.gate(torch.cat([text, seq], dim=-1)))  # (B, L, d)
            return alpha, 1.0 - alpha
        return self.alpha, self.beta

    def forward(self, text: torch.Tensor | None, seq: torch.Tensor) -> torch.Tensor:
        # text: E(l) (B, L, d) or None for fusion: none; seq: E(m) (B, L, d)
        if self.fusion == "none":
            return seq
        if self.fusion == "concat":
            return self.out(torch.cat([text, seq], dim=-1))  # (B, L, d)
        if self.fusion == "sum":
            return self.out(text + seq)
        alpha, beta = self.weights(text, seq)
        return self.out(alpha * text + beta * seq)  # Eq. 16

"""RecBole's model contract for recommenders that score items against their own input embedding table.

    user = forward(item_seq, item_seq_len)                       # (B, d)
    score(user, item) = user · E_id[item] (+ b[item] if the model has an item bias)

`TiedScoring` supplies `calculate_loss` (CE over all items, or BPR on one sampled negative),
`predict` and `full_sort_predict` from `forward`, `self.item_embedding` and `self.loss_fct`, so each
model (M2Rec, Mamba4Rec, RecMamba, LRURec) only writes its encoder.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.model.loss import BPRLoss

LOSS_TYPES = ("CE", "BPR")


def make_loss(loss_type: str, model_name: str) -> nn.Module:
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES} for {model_name}, got {loss_type!r}")
    return BPRLoss() if loss_type == "BPR" else nn.CrossEntropyLoss()


class TiedScoring(SequentialRecommender):
    def item_bias_of(self, items: torch.Tensor | None = None) -> torch.Tensor | float:
        """Per-item score offset: none (0) unless a model overrides it.  items: (B,) or None = all."""
        return 0.0

    def score(self, user: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """user (B, d) against `items` (B,) -> (B,), or against every item -> (B, n_items)."""
        if items is None:
            return user @ self.item_embedding.weight.t() + self.item_bias_of()  # (B, n_items)
        return (user * self.item_embedding(items)).sum(-1) + self.item_bias_of(items)  # (B,)

    def calculate_loss(self, interaction) -> torch.Tensor:
        user = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])  # (B, d)
        pos_items = interaction[self.POS_ITEM_ID]
        if self.loss_type == "BPR":
            return self.loss_fct(self.score(user, pos_items), self.score(user, interaction[self.NEG_ITEM_ID]))
        return self.loss_fct(self.score(user), pos_items)

    def predict(self, interaction) -> torch.Tensor:
        user = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        return self.score(user, interaction[self.ITEM_ID])  # (B,)

    def full_sort_predict(self, interaction) -> torch.Tensor:
        user = self.forward(interaction[self.ITEM_SEQ], interaction[self.ITEM_SEQ_LEN])
        return self.score(user)  # (B, n_items)

"""The scoring contract every tied-output model shares (m2rec.scoring.TiedScoring): shapes, CE and BPR
losses agree with the scores, and a bad loss_type is one clear error."""
import pytest
import torch

import tiny

MODELS = ["M2Rec", "Mamba4Rec", "LRURec", "RecMamba"]


@pytest.mark.parametrize("model_name", MODELS)
def test_scores_and_losses(tiny_data, tiny_overrides, model_name):
    model = tiny.build(model_name, tiny_data, tiny_overrides)
    b = tiny.batch(tiny_data)
    full = model.full_sort_predict(b)  # (B, n_items)
    assert full.shape == (16, model.n_items)
    torch.testing.assert_close(model.predict(b), full.gather(1, b["item_id"][:, None])[:, 0])
    ce = torch.nn.functional.cross_entropy(full, b["item_id"])
    torch.testing.assert_close(model.calculate_loss(b), ce)

    bpr = tiny.build(model_name, tiny_data, tiny_overrides, loss_type="BPR")
    b["neg_item_id"] = (b["item_id"] % (bpr.n_items - 1)) + 1
    scores = bpr.full_sort_predict(b)
    pos, neg = scores.gather(1, b["item_id"][:, None]), scores.gather(1, b["neg_item_id"][:, None])
    expected = -torch.log(1e-10 + torch.sigmoid(pos - neg)).mean()  # RecBole's BPRLoss
    torch.testing.assert_close(bpr.calculate_loss(b), expected)


@pytest.mark.parametrize("model_name", MODELS)
def test_bad_loss_type_is_one_clear_error(tiny_data, tiny_overrides, model_name):
    with pytest.raises(ValueError, match=f"loss_type must be one of .* for {model_name}"):
        tiny.build(model_name, tiny_data, tiny_overrides, loss_type="BCE")

"""AFFM filter (Eq. 10-13): identity, mask bins, gradients, padding."""
import pytest
import torch

from m2rec.filter import FourierFilter, lowpass_mask


def test_theta_one_and_unit_weight_is_identity():
    torch.manual_seed(0)
    x = torch.randn(4, 20, 8)
    f = FourierFilter(seq_len=20, d_model=8, cut_ratio=1.0, adaptive=True)
    torch.testing.assert_close(f(x), x, atol=1e-5, rtol=1e-5)
    odd = FourierFilter(seq_len=7, d_model=8, cut_ratio=1.0)
    x7 = torch.randn(2, 7, 8)
    torch.testing.assert_close(odd(x7), x7, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seq_len,cut_ratio,kept", [
    (200, 0.1, 11),   # bins 0..10: k / 200 <= 0.05
    (200, 1.0, 101),  # every rfft bin
    (200, 0.5, 51),
    (50, 0.1, 3),     # k <= 2.5
    (7, 0.3, 2),      # k <= 1.05
])
def test_mask_keeps_the_right_bins(seq_len, cut_ratio, kept):
    mask = lowpass_mask(seq_len, cut_ratio)
    assert mask.shape == (seq_len // 2 + 1,)
    assert mask.tolist() == [1.0] * kept + [0.0] * (seq_len // 2 + 1 - kept)


def test_mask_rejects_bad_theta():
    with pytest.raises(ValueError, match="cut_ratio"):
        lowpass_mask(10, 0.0)
    with pytest.raises(ValueError, match="cut_ratio"):
        lowpass_mask(10, 1.5)


def test_lowpass_removes_exactly_the_high_frequencies():
    L = 32
    t = torch.arange(L, dtype=torch.float32)
    low = torch.cos(2 * torch.pi * 2 * t / L)    # bin 2
    high = torch.cos(2 * torch.pi * 10 * t / L)  # bin 10
    x = (low + high)[None, :, None]  # (1, L, 1)
    f = FourierFilter(seq_len=L, d_model=1, cut_ratio=0.25)  # keeps k <= 4
    torch.testing.assert_close(f(x)[0, :, 0], low, atol=1e-5, rtol=1e-5)


def test_gradients_reach_w_and_not_masked_bins():
    torch.manual_seed(0)
    f = FourierFilter(seq_len=16, d_model=4, cut_ratio=0.5)  # keeps k <= 4 of 9 bins
    f(torch.randn(3, 16, 4)).square().sum().backward()
    grad = f.weight.grad  # (F, d, 2)
    assert grad[:5].abs().sum() > 0
    assert grad[5:].abs().sum() == 0


def test_fixed_filter_has_no_weight():
    f = FourierFilter(seq_len=16, d_model=4, cut_ratio=0.5, adaptive=False)
    assert f.weight is None and list(f.parameters()) == []


def test_padding_content_does_not_reach_real_positions():
    torch.manual_seed(0)
    f = FourierFilter(seq_len=10, d_model=3, cut_ratio=0.3)
    with torch.no_grad():
        f.weight.normal_()
    x = torch.randn(2, 10, 3)
    pad_mask = torch.zeros(2, 10, dtype=torch.bool)
    pad_mask[0, :6] = True
    pad_mask[1, :3] = True
    garbage = x.clone()
    garbage[~pad_mask] = torch.randn(int((~pad_mask).sum()), 3) * 100
    torch.testing.assert_close(f(x, pad_mask), f(garbage, pad_mask))
    assert not torch.allclose(f(x), f(garbage))


def test_soft_mask_is_a_ramp_around_the_cut():
    f = FourierFilter(seq_len=40, d_model=2, cut_ratio=0.5, mask_type="soft", softness=1.0)
    mask = f.mask  # cut at k = 10
    assert mask[10].item() == pytest.approx(0.5)
    assert mask[0].item() > 0.9999 and mask[20].item() < 1e-4
    assert torch.all(mask[1:] < mask[:-1])


def test_learned_cut_ratio_gets_gradients_and_starts_at_its_init():
    torch.manual_seed(0)
    f = FourierFilter(seq_len=32, d_model=4, cut_ratio="learn", cut_ratio_init=0.25)
    assert f.cut_ratio().item() == pytest.approx(0.25)
    assert f.mask is None
    f(torch.randn(2, 32, 4)).square().sum().backward()
    assert f.cut_logit.grad is not None and f.cut_logit.grad.abs().item() > 0
    with pytest.raises(ValueError, match="'learn'"):
        FourierFilter(seq_len=32, d_model=4, cut_ratio="auto")
    with pytest.raises(ValueError, match="mask_type"):
        FourierFilter(seq_len=32, d_model=4, mask_type="gaussian")

"""M2Rec on RecBole's data structures: ablation switches, gradients, padding, init, Mamba4Rec."""
import pytest
import torch

from m2rec.filter import FourierFilter

import tiny


def build(tiny_data, tiny_overrides, model="M2Rec", seed=0, **overrides):
    return tiny.build(model, tiny_data, tiny_overrides, seed, **overrides)


batch = tiny.batch


def filters(model):
    return [m for m in model.modules() if isinstance(m, FourierFilter)]


@pytest.mark.parametrize("position,where", [("input", "input_filter"), ("inner", "mixer"), ("none", None)])
def test_filter_position_places_the_filter(tiny_data, tiny_overrides, position, where):
    model = build(tiny_data, tiny_overrides, filter_position=position)
    if where is None:
        assert filters(model) == []
    elif where == "input_filter":
        assert filters(model) == [model.input_filter] and model.input_filter.weight.shape[1] == 16
    else:
        assert model.input_filter is None
        assert filters(model) == [model.layers[0].mamba.fourier]
        assert model.layers[0].mamba.fourier.weight.shape[1] == 32  # expand * hidden_size


def test_without_ada_has_no_learnable_w(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides, filter_adaptive=False)
    fourier = model.layers[0].mamba.fourier
    assert fourier.weight is None
    assert fourier.mask.sum() == 1 + int(0.1 * 12 / 2)


@pytest.mark.parametrize("fusion,text_params", [("gate", True), ("concat", True), ("sum", True), ("none", False)])
def test_fusion_switch(tiny_data, tiny_overrides, fusion, text_params):
    model = build(tiny_data, tiny_overrides, fusion=fusion)
    assert (model.text_proj is not None) == text_params
    if fusion == "concat":
        assert model.fusion.out.in_features == 32
    if fusion == "none":
        assert not any(name.startswith("fusion.") for name, _ in model.named_parameters())


def test_gate_computes_eq16(tiny_data, tiny_overrides):
    model = build(tiny_data, tiny_overrides, fusion="gate", gate_form="channel")
    with torch.no_grad():
        model.fusion.alpha.uniform_(0.1, 0.9)
        model.fusion.beta.uniform_(0.1, 0.9)
    text, seq = torch.randn(3, 5, 16), torch.randn(3, 5, 16)
    expected = model.fusion.out(model.fusion.alpha * text + model.fusion.beta * seq)
    torch.testing.assert_close(model.fusion(text, seq), expected)
    summed = build(tiny_data, tiny_overrides, fusion="sum")
    torch.testing.assert_close(summed.fusion(text, seq), summed.fusion.out(text + seq))


@pytest.mark.parametrize("form", ["scalar", "channel", "context"])
def test_gradients_reach_both_branches_and_the_gate(tiny_data, tiny_overrides, form):
    model = build(tiny_data, tiny_overrides, gate_form=form).train()
    inter = batch(tiny_data)
    seq = model(inter["item_id_list"], inter["item_length"])
    torch.nn.functional.cross_entropy(seq @ model.item_embedding.weight.t(), inter["item_id"]).backward()
    assert model.text_proj.weight.grad.abs().sum() > 0
    assert model.layers[0].mamba.in_proj.weight.grad.abs().sum() > 0
    assert model.layers[0].mamba.fourier.weight.grad.abs().sum() > 0
    gate = [model.fusion.gate.weight] if form == "context" else [model.fusion.alpha, model.fusion.beta]
    assert all(p.grad.abs().sum() > 0 for p in gate)


def test_gate_initial_values(tiny_data, tiny_overrides):
    channel = build(tiny_data, tiny_overrides, gate_form="channel", gate_alpha_init=0.3, gate_beta_init=0.7)
    assert channel.fusion.alpha.tolist() == pytest.approx([0.3] * 16)
    assert channel.fusion.beta.tolist() == pytest.approx([0.7] * 16)
    context = build(tiny_data, tiny_overrides, gate_form="context", gate_alpha_init=0.3, gate_beta_init=0.7)
    alpha, beta = context.fusion.weights(torch.zeros(1, 1, 16), torch.zeros(1, 1, 16))
    assert alpha.mean().item() == pytest.approx(0.3, abs=1e-6)
    assert beta.mean().item() == pytest.approx(0.7, abs=1e-6)


@pytest.mark.parametrize("position", ["input", "inner"])
def test_padding_does_not_reach_real_positions(tiny_data, tiny_overrides, position):
    """Right padding (id 0) after the last item: its embedding must not change any real output."""
    model = build(tiny_data, tiny_overrides, filter_position=position)
    inter = batch(tiny_data)
    seqs, lengths = inter["item_id_list"], inter["item_length"]
    assert (lengths < seqs.shape[1]).any(), "the batch needs padded sequences"
    before, scored = model.sequence_output(seqs), model(seqs, lengths)
    with torch.no_grad():
        model.item_embedding.weight[0] = torch.randn(16) * 10
        model.text_table[0] = torch.randn(model.text_table.shape[1]) * 10
    after = model.sequence_output(seqs)
    real = seqs > 0
    torch.testing.assert_close(before[real], after[real])
    assert not torch.allclose(before[~real], after[~real])
    torch.testing.assert_close(scored, model(seqs, lengths))


def test_outputs_depend_on_earlier_items_only_through_the_filter(tiny_data, tiny_overrides):
    """Without the filter the network is causal; with it, a real later item may change earlier outputs."""
    inter = batch(tiny_data)
    seqs, lengths = inter["item_id_list"].clone(), inter["item_length"]
    row = int(torch.argmax(lengths))
    changed = seqs.clone()
    changed[row, lengths[row] - 1] = 1 + (changed[row, lengths[row] - 1] % 50)
    for position, causal in [("none", True), ("input", False)]:
        model = build(tiny_data, tiny_overrides, filter_position=position, fusion="none")
        outs = [model.sequence_output(seqs), model.sequence_output(changed)]
        first = slice(0, int(lengths[row]) - 1)
        assert torch.allclose(outs[0][row, first], outs[1][row, first], atol=1e-6) == causal


@pytest.mark.parametrize("settings", [{}, {"num_layers": 2}, {"gate_form": "context"}, {"fusion": "concat"},
                                      {"filter_position": "inner"}, {"model": "Mamba4Rec"}])
def test_forward_is_the_sequence_output_at_the_last_item(tiny_data, tiny_overrides, settings):
    """forward runs the position-wise tail at item_seq_len - 1 only: same outputs and same gradients."""
    settings = dict(settings)
    if settings.get("model") == "Mamba4Rec":
        settings.update(filter_position="none", fusion="none")
    model = build(tiny_data, tiny_overrides, settings.pop("model", "M2Rec"), **settings).eval()
    inter = batch(tiny_data)
    seqs, lengths = inter["item_id_list"], inter["item_length"]
    rows = torch.arange(len(lengths))
    outputs, grads = [], []
    for run in (lambda: model(seqs, lengths), lambda: model.sequence_output(seqs)[rows, lengths - 1]):
        model.zero_grad()
        out = run()
        torch.nn.functional.cross_entropy(out @ model.item_embedding.weight.t(), inter["item_id"]).backward()
        outputs.append(out.detach())
        grads.append({name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None})
    assert outputs[0].shape == (len(lengths), 16)
    torch.testing.assert_close(outputs[0], outputs[1])
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 10
    for name, grad in grads[0].items():
        torch.testing.assert_close(grad, grads[1][name], msg=name)


def test_mamba4rec_is_the_switched_off_configuration(tiny_data, tiny_overrides):
    ours = build(tiny_data, tiny_overrides, "Mamba4Rec", seed=3)
    same = build(tiny_data, tiny_overrides, seed=3, filter_position="none", fusion="none")
    assert ours.state_dict().keys() == same.state_dict().keys()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, same.state_dict()[key])
    inter = batch(tiny_data)
    torch.testing.assert_close(ours(inter["item_id_list"], inter["item_length"]),
                               same(inter["item_id_list"], inter["item_length"]))
    with pytest.raises(ValueError, match="use --model M2Rec"):
        build(tiny_data, tiny_overrides, "Mamba4Rec", fusion="gate")


@pytest.mark.parametrize("model", ["M2Rec", "RecMamba"])
def test_no_layers_is_an_error(tiny_data, tiny_overrides, model):
    with pytest.raises(ValueError, match="num_layers must be at least 1"):
        build(tiny_data, tiny_overrides, model, num_layers=0)


def test_init(tiny_data, tiny_overrides):
    kept = build(tiny_data, tiny_overrides, init_dt_bias="mamba_ssm")
    zeroed = build(tiny_data, tiny_overrides, init_dt_bias="zero")
    dt = torch.nn.functional.softplus(kept.layers[0].mamba.dt_proj.bias)
    assert 1e-3 - 1e-6 <= dt.min() and dt.max() <= 0.1 + 1e-6
    assert zeroed.layers[0].mamba.dt_proj.bias.abs().sum() == 0
    assert kept.item_embedding.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert kept.layers[0].ffn.w_1.bias.abs().sum() == 0


@pytest.mark.parametrize("key,value,message", [
    ("filter_position", "middle", "filter_position must be one of"),
    ("fusion", "product", "fusion must be one of"),
    ("gate_form", "vector", "gate_form must be one of"),
    ("cut_ratio", 0.0, "cut_ratio"),
    ("loss_type", "MSE", "loss_type must be one of"),
])
def test_config_errors_say_what_to_change(tiny_data, tiny_overrides, key, value, message):
    with pytest.raises(ValueError, match=message):
        build(tiny_data, tiny_overrides, **{key: value})

"""Models and a batch on the tiny dataset of conftest.py, for the model tests."""
import torch

from m2rec.runner import make_config, resolve_model


def build(model, tiny_data, tiny_overrides, seed=0, **overrides):
    """`model` (a name `--model` takes) on the tiny dataset, seeded, in eval mode."""
    _, train, _, _ = tiny_data
    config = make_config(model, "tiny", overrides={**tiny_overrides, **overrides})
    torch.manual_seed(seed)
    return resolve_model(model)(config, train._dataset).eval()


def batch(tiny_data, n=16):
    """The first n training sequences of a fresh pass over the training data: a new dict each call."""
    _, train, _, _ = tiny_data
    inter = next(iter(train))
    return {k: inter[k][:n] for k in ("item_id_list", "item_length", "item_id")}

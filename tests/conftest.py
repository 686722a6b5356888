"""A tiny generated dataset (RecBole atomic files) and helpers to build models on it."""
import os
import random

import pytest
import torch

os.environ.setdefault("OMP_NUM_THREADS", "1")
if not torch.cuda.is_available():  # m2rec/scan_triton.py's kernels then run in Triton's interpreter
    os.environ.setdefault("TRITON_INTERPRET", "1")

N_USERS, N_ITEMS = 40, 60


def write_tiny_dataset(root, name="tiny", seed=0):
    """Users walk through items in order (i, i+1, ...), so the next item is learnable."""
    rng = random.Random(seed)
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    inter = ["user_id:token\titem_id:token\ttimestamp:float"]
    for user in range(N_USERS):
        start, length = rng.randrange(N_ITEMS), rng.randint(8, 16)
        for step in range(length):
            inter.append(f"u{user}\ti{(start + step) % N_ITEMS}\t{1000 * user + step}")
    (folder / f"{name}.inter").write_text("\n".join(inter) + "\n", encoding="utf-8")
    items = ["item_id:token\ttitle:token_seq\tgenre:token_seq"]
    for item in range(N_ITEMS):
        items.append(f"i{item}\tfilm number {item}\t{'drama' if item % 2 else 'comedy'}")
    (folder / f"{name}.item").write_text("\n".join(items) + "\n", encoding="utf-8")
    return root


TINY_OVERRIDES = {
    "MAX_ITEM_LIST_LENGTH": 12, "hidden_size": 16, "d_state": 8, "epochs": 2, "train_batch_size": 64,
    "eval_batch_size": 256, "text_fields": ["title", "genre"], "show_progress": False, "stopping_step": 5,
    "learning_rate": 0.01,
}


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def tiny_overrides(tiny_root, tmp_path_factory):
    saved = tmp_path_factory.mktemp("saved")
    return {**TINY_OVERRIDES, "data_path": str(tiny_root), "checkpoint_dir": str(saved)}


@pytest.fixture(scope="session")
def tiny_data(tiny_overrides):
    """(config, train_data) for M2Rec on the tiny dataset, built once."""
    from recbole.data import create_dataset, data_preparation

    from m2rec.runner import make_config

    config = make_config("M2Rec", "tiny", overrides=tiny_overrides)
    dataset = create_dataset(config)
    train, valid, test = data_preparation(config, dataset)
    return config, train, valid, test

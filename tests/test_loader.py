"""DeviceTrainDataLoader gives RecBole's batches, in RecBole's order, with RecBole's dtypes."""
import pytest
import torch
from recbole.data import create_dataset, data_preparation
from recbole.data.dataloader.general_dataloader import TrainDataLoader

from m2rec.loader import DeviceTrainDataLoader, device_batches
from m2rec.runner import make_config


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _loaders(tiny_overrides, model="M2Rec", **overrides):
    config = make_config(model, "tiny", overrides={**tiny_overrides, "train_batch_size": 16, **overrides})
    config["device"] = torch.device("cpu")  # the tests choose where DeviceTrainDataLoader gathers
    train, _, _ = data_preparation(config, create_dataset(config))
    return config, train


@pytest.mark.parametrize("device", DEVICES)  # cuda: on a GPU machine only
def test_same_batches_in_the_same_order_over_two_epochs(tiny_overrides, device):
    config, stock = _loaders(tiny_overrides)
    config["device"] = torch.device(device)
    fast = DeviceTrainDataLoader(config, stock._dataset, stock._sampler, shuffle=stock.shuffle)
    assert stock.shuffle and len(fast) == len(stock) > 3
    for _ in range(2):  # the second epoch draws a new permutation from the same generator in both
        pairs = list(zip(stock, fast, strict=True))
        for expected, got in pairs:
            assert set(got.interaction) == set(expected.interaction)
            for name, column in expected.interaction.items():
                assert got[name].device.type == device and got[name].dtype == column.dtype, name
                assert torch.equal(got[name].cpu(), column), name
    first_rows = [expected["item_id"][0].item() for expected, _ in pairs]
    assert first_rows != sorted(first_rows)  # shuffled, so the comparison above is about order too


def test_integer_columns_are_stored_as_int32(tiny_overrides):
    config, stock = _loaders(tiny_overrides)
    fast = DeviceTrainDataLoader(config, stock._dataset, stock._sampler, shuffle=True)
    full = sum(column.numel() * column.element_size() for column in stock._dataset.inter_feat.interaction.values())
    floats = sum(column.numel() * 4 for column in stock._dataset.inter_feat.interaction.values()
                 if column.dtype == torch.float32)
    assert fast.resident_bytes() == floats + (full - floats) // 2


def test_device_batches_keeps_recboles_loader_on_the_cpu_and_for_negatives(tiny_overrides):
    config, stock = _loaders(tiny_overrides)
    assert device_batches(config, stock) is stock
    config["device"] = torch.device("cuda")  # as a GPU run sees it; nothing is moved until iteration
    assert type(device_batches(config, stock)) is DeviceTrainDataLoader
    config["train_batches_on_device"] = False
    assert device_batches(config, stock) is stock
    bpr, stock_bpr = _loaders(tiny_overrides, loss_type="BPR")
    bpr["device"] = torch.device("cuda")
    assert type(stock_bpr) is TrainDataLoader and device_batches(bpr, stock_bpr) is stock_bpr

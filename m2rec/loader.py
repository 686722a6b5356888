"""Training batches gathered on the GPU: RecBole's TrainDataLoader with the same batches in the same order.

RecBole's loader builds every batch on the CPU (index the (N, L) item-list tensors of the augmented
training split, wrap them in an Interaction), then the Trainer copies the batch to the GPU, which waits
for both. `DeviceTrainDataLoader` copies the split's columns to the GPU once and gathers each batch
there. The row numbers of each batch still come from the torch DataLoader that RecBole's loader is
(same sampler, same generator seeded with `seed`, DDP's DistributedSampler included), so the order of
training examples is RecBole's exactly; tests/test_loader.py checks batch for batch.

Integer columns whose values fit are kept as int32 on the device (half the memory of ML-1M's
(N, 200) item lists) and handed to the model as int64, as RecBole's loader hands them.

Used when `train_batches_on_device` is on and the device is a GPU, for loaders without negative
sampling or a batch transform (BPR's negatives and BERT4Rec's masking run on the CPU as RecBole's).
"""
from __future__ import annotations

import numpy as np
import torch
from recbole.data.dataloader.general_dataloader import TrainDataLoader
from recbole.data.interaction import Interaction

INT32_MAX = torch.iinfo(torch.int32).max


def _compact(column: torch.Tensor) -> torch.Tensor:
    """int64 -> int32 where every value fits; other columns unchanged."""
    if column.dtype == torch.int64 and column.numel() and -INT32_MAX <= int(column.min()) and int(column.max()) <= INT32_MAX:
        return column.to(torch.int32)
    return column


class DeviceTrainDataLoader(TrainDataLoader):
    """RecBole's training loader whose batches are gathered on `config["device"]` from resident columns."""

    def __init__(self, config, dataset, sampler, shuffle=False):
        super().__init__(config, dataset, sampler, shuffle=shuffle)
        self.device = config["device"]
        self._resident: dict[str, tuple[torch.Tensor, torch.dtype]] | None = None  # field -> (column, dtype out)

    @staticmethod
    def supports(config, loader: TrainDataLoader) -> bool:
        """Whether RecBole's `loader` does nothing per batch beyond indexing (no negatives, no transform)."""
        return config["transform"] is None and loader.neg_sample_args["distribution"] == "none"

    def collate_fn(self, index):
        return torch.as_tensor(np.asarray(index, dtype=np.int64))  # (B,) row numbers; gathered in __iter__

    def resident_bytes(self) -> int:
        return sum(column.numel() * column.element_size() for column, _ in self._columns().values())

    def _columns(self) -> dict[str, tuple[torch.Tensor, torch.dtype]]:
        if self._resident is None:
            feat = self._dataset.inter_feat.interaction
            self._resident = {name: (_compact(column).to(self.device), column.dtype) for name, column in feat.items()}
        return self._resident

    def __iter__(self):
        columns = self._columns()
        for index in super().__iter__():
            index = index.to(self.device, non_blocking=True)  # (B,)
            yield Interaction({name: column[index].to(dtype) for name, (column, dtype) in columns.items()})


def device_batches(config, loader):
    """`loader` itself, or a DeviceTrainDataLoader over the same split when the config asks for one
    (`train_batches_on_device`, a CUDA device) and the loader does nothing per batch beyond indexing."""
    if not (config["train_batches_on_device"] and config["device"].type == "cuda"
            and type(loader) is TrainDataLoader and DeviceTrainDataLoader.supports(config, loader)):
        return loader
    return DeviceTrainDataLoader(config, loader._dataset, loader._sampler, shuffle=loader.shuffle)

"""The training data loader's map step: a skipped image (the mapper returned None) is replaced by another one.

detectron2's ``MapDataset`` does the same, but v0.6 draws the replacement with ``random.sample`` on a set, which
Python 3.11 removed (``TypeError: Population must be a sequence``), so the first skipped image killed training there.
This dataset is handed to ``build_detection_train_loader(dataset=..., mapper=None)``; detectron2 itself is untouched.
"""
import logging
import random

import torch
from detectron2.data.common import DatasetFromList
from torch.utils import data

from .datasets.bad_records import BadRecordError

__all__ = ["ReplacingMapDataset"]

logger = logging.getLogger(__name__)


class ReplacingMapDataset(data.Dataset):
    """Map-style dataset: item ``i`` is ``mapper(dataset[i])``, or, when the mapper returns None (an image it skipped
    under ``DATASETS.HOI.BAD_RECORD_POLICY`` "skip" and logged by name), the mapping of another index, drawn at random
    among those not yet found bad, logged with the running count of replaced images.

    Each process (each DataLoader worker) keeps its own set of bad indices and its own count (the log line says
    which process); the random draw is seeded from ``torch.initial_seed()``, which detectron2 seeds per worker.

    Args:
        dataset (list[dict] | torch.utils.data.Dataset): dataset dicts (a list is wrapped in detectron2's
            ``DatasetFromList`` so that workers share it).
        mapper (callable): dataset dict -> model input, or None to skip it.

    Raises (from ``__getitem__``):
        BadRecordError: when every image of the dataset has been skipped (nothing is left to replace them with).
    """

    def __init__(self, dataset, mapper):
        self._dataset = DatasetFromList(dataset, copy=False) if isinstance(dataset, list) else dataset
        self._mapper = mapper
        self._bad = set()
        self._rng = None
        self.num_replaced = 0

    def __len__(self):
        return len(self._dataset)

    def _replacement(self):
        if self._rng is None:
            self._rng = random.Random(torch.initial_seed())
        n = len(self._dataset)
        if len(self._bad) * 2 < n:
            while True:  # rejection sampling: expected < 2 draws while most images are good
                idx = self._rng.randrange(n)
                if idx not in self._bad:
                    return idx
        return self._rng.choice(sorted(set(range(n)) - self._bad))

    def __getitem__(self, idx):
        idx = int(idx)
        while True:
            out = self._mapper(self._dataset[idx])
            if out is not None:
                return out
            self._bad.add(idx)
            if len(self._bad) >= len(self._dataset):
                raise BadRecordError(f"all {len(self._dataset)} training images were skipped as unreadable or "
                                     "inconsistent with their records (warnings above name each one)")
            new = self._replacement()
            self.num_replaced += 1
            worker = data.get_worker_info()
            where = f"data-loader worker {worker.id}" if worker is not None else "the main process"
            logger.warning(f"training sample (dataset index) {idx} replaced by {new}: {self.num_replaced} image(s) replaced so far "
                           f"in {where} (DATASETS.HOI.BAD_RECORD_POLICY 'skip')")
            idx = new

"""External detections (the paper's GGNet-double-dagger setting, Table 5): the per-image layout shared by the mapper,
which reads them from a file or the ground truth, and the model, which runs a detectron2 detector or takes them from
its inputs; and the tables mapping a source's classes to the dataset's.

Layout of one image's detections: ``{"boxes": (N, 4) float32 XYXY original pixels, "scores": (N,) float32,
"classes": (N,) int64 dataset-contiguous classes}`` (tensors; docs/interfaces.md, "External detections").
"""
import logging
import os

import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.utils.logger import log_first_n

__all__ = ["class_table_by_name", "class_table_from_list", "detections_dict", "detector_config"]


def _normalize(name):
    return " ".join(str(name).lower().replace("_", " ").replace("-", " ").split())


def class_table_by_name(source_classes, dataset_classes):
    """Source class index -> dataset contiguous class, matching names case-insensitively with "_", "-" and " " alike
    (COCO's "hair drier" is HICO-DET's "hair_drier"); -1 where the dataset has no such class.

    Returns:
        np.ndarray: (len(source_classes),) int64.
    """
    index = {_normalize(n): i for i, n in enumerate(dataset_classes)}
    return np.array([index.get(_normalize(n), -1) for n in source_classes], dtype=np.int64)


def class_table_from_list(class_map, num_classes, what):
    """``EXTERNAL_DETECTIONS.CLASS_MAP`` (entry j = dataset contiguous class of source class j, -1 = drop) as a table.

    Raises:
        ValueError: an entry outside [-1, num_classes).
    """
    table = np.asarray(list(class_map), dtype=np.int64)
    bad = [(j, int(c)) for j, c in enumerate(table) if c < -1 or c >= num_classes]
    if bad:
        raise ValueError(f"MODEL.GGNET.EXTERNAL_DETECTIONS.CLASS_MAP ({what}): entries (index, value) {bad[:5]} are "
                         f"outside [-1, {num_classes}) (MODEL.GGNET.NUM_CLASSES)")
    return table


def _apply_table(table, ids):
    """Map ids through ``table`` (ids outside it -> -1)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(ids.shape, -1, dtype=np.int64)
    inside = (ids >= 0) & (ids < len(table))
    out[inside] = table[ids[inside]]
    return out


def detections_dict(boxes, scores, classes, table, where):
    """One image's detections in the shared layout (module docstring), classes mapped through ``table`` (None: already
    dataset classes); detections of unmapped classes are dropped, counted and logged (first time only).

    Args:
        boxes (array-like): (N, 4) XYXY original pixels. scores (N,). classes (N,) source class ids.
        table (np.ndarray | None): source id -> dataset class or -1 (``class_table_*``).
        where (str): the image or source, for the log.
    """
    mapped = _apply_table(table, classes) if table is not None else np.asarray(classes, dtype=np.int64)
    keep = mapped >= 0
    if not keep.all():
        log_first_n(logging.INFO, f"{where}: {int((~keep).sum())} detection(s) of classes without a dataset class "
                    "dropped (EXTERNAL_DETECTIONS.CLASS_MAP); further such messages are not shown", n=1,
                    name=__name__)
    return {"boxes": torch.as_tensor(np.asarray(boxes, dtype=np.float32)[keep]).reshape(-1, 4),
            "scores": torch.as_tensor(np.asarray(scores, dtype=np.float32)[keep]),
            "classes": torch.as_tensor(mapped[keep])}


def detector_config(cfg):
    """The detectron2 detector's config: ``get_cfg()`` + ``EXTERNAL_DETECTIONS.CONFIG_FILE`` + ``DETECTOR_OPTS``, on
    ``MODEL.DEVICE`` with ``EXTERNAL_DETECTIONS.WEIGHTS`` (frozen).

    Raises:
        ValueError: CONFIG_FILE empty. FileNotFoundError: it does not exist.
    """
    e = cfg.MODEL.GGNET.EXTERNAL_DETECTIONS
    if not e.CONFIG_FILE:
        raise ValueError("EXTERNAL_DETECTIONS.SOURCE 'detectron2' needs EXTERNAL_DETECTIONS.CONFIG_FILE (a "
                         "detectron2 detector config)")
    if not os.path.isfile(e.CONFIG_FILE):
        raise FileNotFoundError(f"EXTERNAL_DETECTIONS.CONFIG_FILE {e.CONFIG_FILE!r} does not exist")
    det = get_cfg()
    det.merge_from_file(e.CONFIG_FILE)
    det.merge_from_list(list(e.DETECTOR_OPTS))
    det.MODEL.DEVICE = cfg.MODEL.DEVICE
    det.MODEL.WEIGHTS = e.WEIGHTS
    det.freeze()
    return det

"""Detection files: the two layouts accepted by the ``file`` external source (docs/interfaces.md).

1. COCO results JSON (what detectron2's COCOEvaluator writes as ``coco_instances_results.json``): a list of
   ``{"image_id": int, "category_id": int, "bbox": [x, y, w, h], "score": float}``, boxes XYWH in original pixels.
2. Per-image JSON: ``{key: [{"bbox": [x1, y1, x2, y2], "score": float, "category_id": int}, ...], ...}`` with ``key``
   an image id (a string of digits) or a file name (matched by its base name), boxes XYXY in original pixels.

``category_id`` is in the file's id space: by default the dataset's own ids (its metadata's
``thing_dataset_id_to_contiguous_id``), or the indices of ``EXTERNAL_DETECTIONS.CLASS_MAP``. Read by the external
``file`` source (ggnet_d2/modeling/external/sources.py); numpy and msgspec only.
"""
import math
import os

import numpy as np

from .json_file import FormatError, load_json

__all__ = ["load_detection_file", "DetectionIndex"]


class DetectionIndex:
    """Detections of a file, per image.

    Attributes:
        path (str): the file.
        by_id (dict[int, tuple]), by_name (dict[str, tuple]): image id / file base name -> (boxes (N, 4) float32 XYXY
            original pixels, scores (N,) float32, category_ids (N,) int64 in the file's id space).
    """

    def __init__(self, path, by_id, by_name):
        self.path, self.by_id, self.by_name = path, by_id, by_name

    def lookup(self, image_id=None, file_name=None):
        """Detections of one image by id, else by file base name; None when the file has no entry for it."""
        if image_id is not None and image_id in self.by_id:
            return self.by_id[image_id]
        if file_name is not None:
            return self.by_name.get(os.path.basename(file_name))
        return None

    def __len__(self):
        return len(self.by_id) + len(self.by_name)


def _number(value, what, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: {what} must be a finite number, got {value!r}")
    return float(value)


def _category(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{where}: category_id must be an integer, got {value!r}")
    return int(value)


def _parse(entry, where, xywh):
    """(box XYXY, score, category_id) of one entry, or ValueError naming ``where``."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object with bbox, score and category_id, got {entry!r:.80}")
    missing = [k for k in ("bbox", "score", "category_id") if k not in entry]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}")
    bbox = entry["bbox"]
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        raise ValueError(f"{where}: bbox must be a list of 4 numbers, got {bbox!r:.80}")
    a, b, c, d = (_number(v, "bbox", where) for v in bbox)
    if xywh:
        if c < 0 or d < 0:
            raise ValueError(f"{where}: bbox [x, y, w, h] has a negative size: {bbox}")
        box = (a, b, a + c, b + d)
    else:
        if c < a or d < b:
            raise ValueError(f"{where}: bbox [x1, y1, x2, y2] has x2 < x1 or y2 < y1: {bbox}")
        box = (a, b, c, d)
    return box, _number(entry["score"], "score", where), _category(entry["category_id"], where)


def _arrays(rows):
    boxes = np.array([r[0] for r in rows], dtype=np.float32).reshape(-1, 4)
    return boxes, np.array([r[1] for r in rows], dtype=np.float32), np.array([r[2] for r in rows], dtype=np.int64)


def load_detection_file(path):
    """Read and validate a detection file in either layout (module docstring).

    Args:
        path (str): a .json file.

    Returns:
        DetectionIndex

    Raises:
        FileNotFoundError: no such file.
        ValueError: not JSON, neither layout, or a malformed entry (the message names the file and the entry:
            its list index in layout 1, its key and index in layout 2).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"detection file {path!r} does not exist (MODEL.GGNET.EXTERNAL_DETECTIONS.FILE)")
    try:
        data = load_json(path)
    except FormatError as e:
        raise ValueError(f"detection file {e}") from None
    by_id, by_name = {}, {}
    if isinstance(data, list):
        rows = {}
        for i, entry in enumerate(data):
            where = f"detection file {path}, entry {i}"
            if not isinstance(entry, dict) or "image_id" not in entry:
                raise ValueError(f"{where}: a COCO results entry needs image_id, category_id, bbox [x, y, w, h] and "
                                 f"score, got {entry!r:.80}")
            image_id = entry["image_id"]
            if isinstance(image_id, bool) or not isinstance(image_id, int):
                raise ValueError(f"{where}: image_id must be an integer, got {image_id!r}")
            rows.setdefault(image_id, []).append(_parse(entry, where, xywh=True))
        by_id = {k: _arrays(v) for k, v in rows.items()}
    elif isinstance(data, dict):
        for key, entries in data.items():
            if not isinstance(entries, list):
                raise ValueError(f"detection file {path}, image {key!r}: expected a list of detections, got "
                                 f"{entries!r:.80}")
            rows = [_parse(e, f"detection file {path}, image {key!r}, entry {j}", xywh=False)
                    for j, e in enumerate(entries)]
            if key.isdigit():
                by_id[int(key)] = _arrays(rows)
            else:
                by_name[os.path.basename(key)] = _arrays(rows)
    else:
        raise ValueError(f"detection file {path}: expected a JSON list (COCO results) or object (per image), got "
                         f"{type(data).__name__}")
    return DetectionIndex(path, by_id, by_name)

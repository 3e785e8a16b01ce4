"""Sources of external human/object candidates (the paper's GGNet-double-dagger setting, Table 5: GGNet's
interaction branch matched to another detector's boxes).

A source is built from the GGNet config and called at inference on the model's ``batched_inputs``; it returns, per
image, a dict ``{"boxes": (N, 4) float32 XYXY original pixels, "scores": (N,) float32, "classes": (N,) int64
dataset-contiguous classes}`` on the CPU or the model's device. The meta-architecture maps the boxes to feature-map
pixels and ``candidates_from_detections`` applies the score threshold and top-K. Sources are plain objects, not
sub-modules, so GGNet's state dict, optimizer and training are unchanged.

``MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE`` names one: ``"detectron2"``, ``"file"``, ``"ground_truth"``, or the class
name of any source registered in ``EXTERNAL_SOURCE_REGISTRY``.
"""
import logging
import os

import numpy as np
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T
from detectron2.modeling import build_model
from detectron2.structures import BoxMode
from detectron2.utils.logger import log_first_n
from detectron2.utils.registry import Registry

from .detection_file import load_detection_file

__all__ = ["EXTERNAL_SOURCE_REGISTRY", "build_external_source", "Detectron2DetectorSource", "DetectionFileSource",
           "GroundTruthSource", "class_table_by_name", "class_table_from_list"]

logger = logging.getLogger(__name__)

EXTERNAL_SOURCE_REGISTRY = Registry("GGNET_EXTERNAL_SOURCE")
EXTERNAL_SOURCE_REGISTRY.__doc__ = """Sources of external human/object candidates for GGNet; called with ``cfg``."""

_SHORT_NAMES = {"detectron2": "Detectron2DetectorSource", "file": "DetectionFileSource",
                "ground_truth": "GroundTruthSource"}


def build_external_source(cfg):
    """The source named by ``MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE``, or None when it is empty (own heads).

    Raises:
        KeyError: an unknown source name (the message lists the registered ones).
    """
    name = cfg.MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE
    if not name:
        return None
    return EXTERNAL_SOURCE_REGISTRY.get(_SHORT_NAMES.get(name, name))(cfg)


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


def _detections(boxes, scores, classes, table, where):
    """Dict of tensors after class mapping; unmapped detections are dropped, counted and logged."""
    mapped = _apply_table(table, classes) if table is not None else np.asarray(classes, dtype=np.int64)
    keep = mapped >= 0
    if not keep.all():
        log_first_n(logging.INFO, f"{where}: {int((~keep).sum())} detection(s) of classes without a dataset class "
                    "dropped (EXTERNAL_DETECTIONS.CLASS_MAP); further such messages are not shown", n=1,
                    name=__name__)
    return {"boxes": torch.as_tensor(np.asarray(boxes, dtype=np.float32)[keep]).reshape(-1, 4),
            "scores": torch.as_tensor(np.asarray(scores, dtype=np.float32)[keep]),
            "classes": torch.as_tensor(mapped[keep])}


def _dataset_name(cfg):
    names = list(cfg.DATASETS.TEST) or list(cfg.DATASETS.TRAIN)
    return names[0] if names else None


@EXTERNAL_SOURCE_REGISTRY.register()
class Detectron2DetectorSource:
    """A detectron2 detector run on each image: any registered meta-architecture whose eval output per image has
    ``instances`` with ``pred_boxes``, ``scores`` and ``pred_classes`` (Faster R-CNN, RetinaNet, ...).

    Its config is ``get_cfg()`` + ``EXTERNAL_DETECTIONS.CONFIG_FILE`` + ``EXTERNAL_DETECTIONS.DETECTOR_OPTS``; its
    weights ``EXTERNAL_DETECTIONS.WEIGHTS`` load through detectron2's ``DetectionCheckpointer`` (empty: random
    weights, for tests). It runs on ``MODEL.DEVICE``, in eval mode, without gradients. The image is the original file
    (``file_name``, read in the detector's ``INPUT.FORMAT``) when the input has one, else GGNet's resized input
    image (a plain resize: ``INPUT.GGNET.TEST_PLACEMENT`` "top_left"); either way resized with the detector's own
    ``MIN_SIZE_TEST`` / ``MAX_SIZE_TEST`` and mapped back to original pixels by the detector (``height`` / ``width``).

    Classes: ``EXTERNAL_DETECTIONS.CLASS_MAP`` (entry j = dataset class of detector class j, -1 = drop), or by default
    by name: the detector's ``thing_classes`` (metadata of its ``DATASETS.TEST[0]``, e.g. COCO's 80) against the GGNet
    dataset's (``DATASETS.TEST[0]``).

    Raises:
        ValueError: CONFIG_FILE empty, or no class mapping can be made.
        FileNotFoundError: a missing config or weights file.
    """

    def __init__(self, cfg):
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
        self.cfg = det
        self.model = build_model(det).eval()
        self.model.requires_grad_(False)
        if e.WEIGHTS:
            DetectionCheckpointer(self.model).load(e.WEIGHTS)
        else:
            logger.warning("EXTERNAL_DETECTIONS.WEIGHTS is empty: the external detector has random weights")
        self.resize = T.ResizeShortestEdge([det.INPUT.MIN_SIZE_TEST] * 2, det.INPUT.MAX_SIZE_TEST)
        self.input_format, self.ggnet_format = det.INPUT.FORMAT, cfg.INPUT.FORMAT
        if list(e.CLASS_MAP):
            self.class_table = class_table_from_list(e.CLASS_MAP, cfg.MODEL.GGNET.NUM_CLASSES, "detector classes")
        else:
            det_name, name = _dataset_name(det), _dataset_name(cfg)
            det_classes = MetadataCatalog.get(det_name).get("thing_classes", None) if det_name else None
            classes = MetadataCatalog.get(name).get("thing_classes", None) if name else None
            if det_classes is None or classes is None:
                raise ValueError(f"EXTERNAL_DETECTIONS: cannot map detector classes by name (detector dataset "
                                 f"{det_name!r}, GGNet dataset {name!r} need thing_classes metadata); set "
                                 f"EXTERNAL_DETECTIONS.CLASS_MAP")
            self.class_table = class_table_by_name(det_classes, classes)
            logger.info(f"External detector classes mapped by name: {int((self.class_table >= 0).sum())} of "
                        f"{len(det_classes)} ({det_name}) found among {len(classes)} ({name})")

    def _image(self, x):
        """(HWC uint8 image in the detector's format, original height, original width)."""
        path = x.get("file_name")
        if path and os.path.isfile(path):
            img = utils.read_image(path, format=self.input_format)
            return img, x.get("height", img.shape[0]), x.get("width", img.shape[1])
        img = x["image"].permute(1, 2, 0).cpu().numpy()
        if {self.input_format, self.ggnet_format} == {"RGB", "BGR"}:
            img = img[:, :, ::-1]
        return np.ascontiguousarray(img), x.get("height", img.shape[0]), x.get("width", img.shape[1])

    def __call__(self, batched_inputs):
        """Per-image detections (module docstring) of GGNet's ``batched_inputs``."""
        inputs = []
        for x in batched_inputs:
            img, height, width = self._image(x)
            img = self.resize.get_transform(img).apply_image(img)
            inputs.append({"image": torch.as_tensor(np.ascontiguousarray(img.transpose(2, 0, 1))),
                           "height": height, "width": width})
        with torch.no_grad():
            outputs = self.model(inputs)
        results = []
        for x, out in zip(batched_inputs, outputs):
            inst = out["instances"].to("cpu")
            results.append(_detections(inst.pred_boxes.tensor.numpy(), inst.scores.numpy(),
                                       inst.pred_classes.numpy(), self.class_table,
                                       x.get("file_name", "external detector")))
        return results


@EXTERNAL_SOURCE_REGISTRY.register()
class DetectionFileSource:
    """Detections read from ``EXTERNAL_DETECTIONS.FILE`` (layouts: ``detection_file.py``, docs/interfaces.md), looked
    up by the input's ``image_id``, else by its ``file_name``'s base name. The file is read at the first call (not
    when the model is built). An image without an entry gets no candidates (counted and logged).

    Classes: the file's ``category_id`` goes through ``EXTERNAL_DETECTIONS.CLASS_MAP`` (entry j = dataset contiguous
    class of file id j) when set, else through the dataset's ``thing_dataset_id_to_contiguous_id``
    (``DATASETS.TEST[0]``); ids without a mapping are dropped.

    Raises:
        ValueError: FILE empty; a malformed file (names the file and entry); no class mapping available.
    """

    def __init__(self, cfg):
        e = cfg.MODEL.GGNET.EXTERNAL_DETECTIONS
        if not e.FILE:
            raise ValueError("EXTERNAL_DETECTIONS.SOURCE 'file' needs EXTERNAL_DETECTIONS.FILE")
        self.path = e.FILE
        self.class_map, self.num_classes = list(e.CLASS_MAP), cfg.MODEL.GGNET.NUM_CLASSES
        self.dataset_name = _dataset_name(cfg)
        self.index = self.class_table = None
        self.num_missing = 0

    def _load(self):
        self.index = load_detection_file(self.path)
        if self.class_map:
            self.class_table = class_table_from_list(self.class_map, self.num_classes, "file category ids")
            return
        mapping = None
        if self.dataset_name:
            mapping = MetadataCatalog.get(self.dataset_name).get("thing_dataset_id_to_contiguous_id", None)
        if mapping is None:
            raise ValueError(f"detection file {self.path}: dataset {self.dataset_name!r} has no "
                             f"thing_dataset_id_to_contiguous_id metadata; set EXTERNAL_DETECTIONS.CLASS_MAP")
        table = np.full(max(mapping) + 1 if mapping else 0, -1, dtype=np.int64)
        for k, v in mapping.items():
            table[int(k)] = v
        self.class_table = table
        logger.info(f"Detection file {self.path}: {len(self.index)} images")

    def __call__(self, batched_inputs):
        """Per-image detections (module docstring) of GGNet's ``batched_inputs``."""
        if self.index is None:
            self._load()
        results = []
        for x in batched_inputs:
            found = self.index.lookup(x.get("image_id"), x.get("file_name"))
            where = f"detection file {self.path}, image {x.get('file_name', x.get('image_id'))}"
            if found is None:
                self.num_missing += 1
                logger.warning(f"{where}: no entry; no candidates for this image ({self.num_missing} so far)")
                found = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
            results.append(_detections(*found, self.class_table, where))
        return results


@EXTERNAL_SOURCE_REGISTRY.register()
class GroundTruthSource:
    """The dataset's own boxes as detections with score 1: the upper bound commonly reported in HOI work (analysis
    only). Boxes come from the input's ``annotations`` (the test mapper keeps the dataset dict), else from the
    dataset dicts of ``DATASETS.TEST`` looked up by ``file_name`` (read at the first such call).

    Raises:
        ValueError: an input without ``annotations`` whose ``file_name`` is in none of the test datasets.
    """

    def __init__(self, cfg):
        self.dataset_names = list(cfg.DATASETS.TEST)
        self.by_file = None

    def _annotations(self, x):
        if "annotations" in x:
            return x["annotations"]
        if self.by_file is None:
            self.by_file = {d["file_name"]: d.get("annotations", [])
                            for name in self.dataset_names for d in DatasetCatalog.get(name)}
        if x.get("file_name") not in self.by_file:
            raise ValueError(f"EXTERNAL_DETECTIONS.SOURCE 'ground_truth': image {x.get('file_name')!r} has no "
                             f"annotations and is not in DATASETS.TEST {self.dataset_names}")
        return self.by_file[x["file_name"]]

    def __call__(self, batched_inputs):
        """Per-image detections (module docstring) of GGNet's ``batched_inputs``."""
        results = []
        for x in batched_inputs:
            anns = self._annotations(x)
            boxes = [BoxMode.convert(list(a["bbox"]), a.get("bbox_mode", BoxMode.XYXY_ABS), BoxMode.XYXY_ABS)
                     for a in anns]
            results.append(_detections(np.array(boxes, dtype=np.float32).reshape(-1, 4), np.ones(len(anns)),
                                       [a["category_id"] for a in anns], None, "ground truth"))
        return results

"""Inputs of GGNet's external-candidate route (the paper's GGNet-double-dagger setting, Table 5), added to each test
dataset dict by the mapper (and the demo's predictor), so that the model reads nothing but its inputs:

- ``"file"``: ``"external_detections"`` read from ``EXTERNAL_DETECTIONS.FILE`` (layouts:
  ``ggnet_d2.formats.detections``);
- ``"ground_truth"``: ``"external_detections"`` = the dataset dict's own boxes, score 1 (upper bound, analysis only);
- ``"detectron2"``: ``"detector_image"``, the image at the detector's own test size; the detector itself runs inside
  the model (``ggnet_d2.modeling.external``).

``"external_detections"``: ``{"boxes": (N, 4) float32 XYXY original pixels, "scores": (N,) float32, "classes": (N,)
int64 dataset-contiguous classes}`` (``ggnet_d2.utils.external_detections``). ``MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE``
names a source: one of the three, or the class name of any source registered in ``EXTERNAL_SOURCE_REGISTRY`` (called
with ``cfg``; its instances are called with ``(dataset_dict, image)`` and return the fields to add).
"""
import logging

import numpy as np
import torch
from detectron2.data import MetadataCatalog
from detectron2.data import transforms as T
from detectron2.structures import BoxMode
from detectron2.utils.registry import Registry

from ..formats.detections import load_detection_file
from ..utils.external_detections import class_table_from_list, detections_dict, detector_config

__all__ = ["EXTERNAL_SOURCE_REGISTRY", "build_external_inputs", "Detectron2DetectorInput",
           "DetectionFileSource", "GroundTruthSource"]

logger = logging.getLogger(__name__)

EXTERNAL_SOURCE_REGISTRY = Registry("GGNET_EXTERNAL_SOURCE")
EXTERNAL_SOURCE_REGISTRY.__doc__ = """Sources of GGNet's external-candidate inputs; built with ``cfg``, called with
``(dataset_dict, image)`` (image: HWC uint8 in ``INPUT.FORMAT``, original pixels), returning the fields to add."""

_SHORT_NAMES = {"detectron2": "Detectron2DetectorInput", "file": "DetectionFileSource",
                "ground_truth": "GroundTruthSource"}


def build_external_inputs(cfg):
    """The source named by ``MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE``, or None when it is empty (own heads).

    Raises:
        KeyError: an unknown source name (the message lists the registered ones).
        ValueError: a source's required key is empty.
    """
    name = cfg.MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE
    if not name:
        return None
    return EXTERNAL_SOURCE_REGISTRY.get(_SHORT_NAMES.get(name, name))(cfg)


def _dataset_name(cfg):
    names = list(cfg.DATASETS.TEST) or list(cfg.DATASETS.TRAIN)
    return names[0] if names else None


@EXTERNAL_SOURCE_REGISTRY.register()
class Detectron2DetectorInput:
    """``"detector_image"``: uint8 (3, h, w) in the detector's ``INPUT.FORMAT``, the original image resized with the
    detector's ``MIN_SIZE_TEST`` / ``MAX_SIZE_TEST`` (detectron2's ``ResizeShortestEdge``, as its DefaultPredictor);
    the detector maps its boxes back to original pixels through the dict's ``height`` / ``width``.

    Raises:
        ValueError / FileNotFoundError: see ``detector_config``.
    """

    def __init__(self, cfg):
        det = detector_config(cfg)
        self.resize = T.ResizeShortestEdge([det.INPUT.MIN_SIZE_TEST] * 2, det.INPUT.MAX_SIZE_TEST)
        self.swap_channels = {det.INPUT.FORMAT, cfg.INPUT.FORMAT} == {"RGB", "BGR"}

    def __call__(self, dataset_dict, image):
        """``{"detector_image": tensor}`` for ``image`` (HWC uint8, GGNet's ``INPUT.FORMAT``, original pixels)."""
        if self.swap_channels:
            image = image[:, :, ::-1]
        image = self.resize.get_transform(image).apply_image(np.ascontiguousarray(image))
        return {"detector_image": torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))}


@EXTERNAL_SOURCE_REGISTRY.register()
class DetectionFileSource:
    """Detections read from ``EXTERNAL_DETECTIONS.FILE`` (layouts: ``ggnet_d2.formats.detections``,
    docs/interfaces.md), looked up by the dict's ``image_id``, else by its ``file_name``'s base name. The file is read
    at the first call (not when the mapper is built). An image without an entry gets no candidates (counted and
    logged).

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

    def __call__(self, dataset_dict, image=None):
        """``{"external_detections": ...}`` of one dataset dict (module docstring)."""
        if self.index is None:
            self._load()
        found = self.index.lookup(dataset_dict.get("image_id"), dataset_dict.get("file_name"))
        where = f"detection file {self.path}, image {dataset_dict.get('file_name', dataset_dict.get('image_id'))}"
        if found is None:
            self.num_missing += 1
            logger.warning(f"{where}: no entry; no candidates for this image ({self.num_missing} so far)")
            found = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
        return {"external_detections": detections_dict(*found, self.class_table, where)}


@EXTERNAL_SOURCE_REGISTRY.register()
class GroundTruthSource:
    """The dataset dict's own boxes (``annotations``) as detections with score 1: the upper bound commonly reported in
    HOI work (analysis only).

    Raises:
        ValueError: a dataset dict without ``annotations`` (e.g. a demo image).
    """

    def __init__(self, cfg):
        del cfg  # nothing to configure: the boxes are the dataset dict's

    def __call__(self, dataset_dict, image=None):
        """``{"external_detections": ...}`` of one dataset dict (module docstring)."""
        if "annotations" not in dataset_dict:
            raise ValueError(f"EXTERNAL_DETECTIONS.SOURCE 'ground_truth': image {dataset_dict.get('file_name')!r} "
                             "has no annotations")
        anns = dataset_dict["annotations"]
        boxes = [BoxMode.convert(list(a["bbox"]), a.get("bbox_mode", BoxMode.XYXY_ABS), BoxMode.XYXY_ABS)
                 for a in anns]
        return {"external_detections": detections_dict(np.array(boxes, dtype=np.float32).reshape(-1, 4),
                                                       np.ones(len(anns)), [a["category_id"] for a in anns], None,
                                                       "ground truth")}

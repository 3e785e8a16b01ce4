"""A detectron2 detector inside GGNet: the external human/object candidates of the GGNet-double-dagger setting (Table
5) computed on the fly from the ``"detector_image"`` the mapper adds to each input."""
import logging

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model

from ...utils.external_detections import class_table_from_list, detections_dict, detector_config

__all__ = ["Detectron2Detector", "build_external_detector"]

logger = logging.getLogger(__name__)


def build_external_detector(cfg):
    """A :class:`Detectron2Detector` when ``MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE`` is "detectron2", else None (the
    candidates come from the inputs' ``"external_detections"``, or GGNet's own heads when SOURCE is empty)."""
    if cfg.MODEL.GGNET.EXTERNAL_DETECTIONS.SOURCE != "detectron2":
        return None
    return Detectron2Detector(cfg)


class Detectron2Detector:
    """Any registered detectron2 meta-architecture whose eval output per image has ``instances`` with ``pred_boxes``,
    ``scores`` and ``pred_classes`` (Faster R-CNN, RetinaNet, ...), run on each input's ``"detector_image"``.

    Its config is ``get_cfg()`` + ``EXTERNAL_DETECTIONS.CONFIG_FILE`` + ``EXTERNAL_DETECTIONS.DETECTOR_OPTS``; its
    weights ``EXTERNAL_DETECTIONS.WEIGHTS`` load through detectron2's ``DetectionCheckpointer`` (empty: random
    weights, for tests). It runs on ``MODEL.DEVICE``, in eval mode, without gradients; a plain object, not a
    sub-module, so GGNet's state dict, optimizer and training are unchanged. Boxes come back in original pixels
    (the detector's own postprocessing from ``height`` / ``width``).

    Classes: ``EXTERNAL_DETECTIONS.CLASS_MAP`` (entry j = dataset class of detector class j, -1 = drop);
    ``setup_cfg`` fills it by name from the detector's and the dataset's ``thing_classes`` when it is empty
    (``ggnet_d2.engine.dataset_facts``).

    Raises:
        ValueError: CONFIG_FILE or CLASS_MAP empty.
        FileNotFoundError: a missing config or weights file.
    """

    def __init__(self, cfg):
        e = cfg.MODEL.GGNET.EXTERNAL_DETECTIONS
        det = detector_config(cfg)
        if not list(e.CLASS_MAP):
            raise ValueError("EXTERNAL_DETECTIONS.SOURCE 'detectron2' needs EXTERNAL_DETECTIONS.CLASS_MAP (setup_cfg "
                             "fills it by class name from the detector's and the dataset's metadata)")
        self.cfg = det
        self.model = build_model(det).eval()
        self.model.requires_grad_(False)
        if e.WEIGHTS:
            DetectionCheckpointer(self.model).load(e.WEIGHTS)
        else:
            logger.warning("EXTERNAL_DETECTIONS.WEIGHTS is empty: the external detector has random weights")
        self.class_table = class_table_from_list(e.CLASS_MAP, cfg.MODEL.GGNET.NUM_CLASSES, "detector classes")

    def __call__(self, batched_inputs):
        """Per-image detections (``ggnet_d2.utils.external_detections`` layout) of GGNet's ``batched_inputs``.

        Raises:
            ValueError: an input without ``"detector_image"`` (HOIDatasetMapper and the demo's predictor add it).
        """
        inputs = []
        for x in batched_inputs:
            if "detector_image" not in x:
                raise ValueError(f"{x.get('file_name', 'input image')}: EXTERNAL_DETECTIONS.SOURCE 'detectron2' "
                                 "needs the input's 'detector_image' (added by HOIDatasetMapper in test mode)")
            image = x["detector_image"]
            inputs.append({"image": image, "height": x.get("height", image.shape[1]),
                           "width": x.get("width", image.shape[2])})
        with torch.no_grad():
            outputs = self.model(inputs)
        return [detections_dict(out["instances"].pred_boxes.tensor.cpu().numpy(), out["instances"].scores.cpu().numpy(),
                                out["instances"].pred_classes.cpu().numpy(), self.class_table,
                                x.get("file_name", "external detector"))
                for x, out in zip(batched_inputs, outputs)]

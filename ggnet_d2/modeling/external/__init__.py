"""External human/object candidates for GGNet's Eq. 8 matching (the paper's GGNet-double-dagger setting, Table 5): a
detectron2 detector run inside the model on the mapper's ``"detector_image"``, or the ``"external_detections"`` the
mapper reads from a detection file or the ground truth (the data side's ``external_detections`` module)."""
from .candidates import candidates_from_detections
from .detector import Detectron2Detector, build_external_detector

__all__ = ["Detectron2Detector", "build_external_detector", "candidates_from_detections"]

"""External human/object candidates for GGNet's Eq. 8 matching (the paper's GGNet-double-dagger setting, Table 5): a
detectron2 detector run on the same image, a detection file, or the dataset's ground-truth boxes."""
from .candidates import candidates_from_detections
from .detection_file import load_detection_file
from .sources import (
    EXTERNAL_SOURCE_REGISTRY,
    Detectron2DetectorSource,
    DetectionFileSource,
    GroundTruthSource,
    build_external_source,
)

__all__ = ["EXTERNAL_SOURCE_REGISTRY", "build_external_source", "Detectron2DetectorSource", "DetectionFileSource",
           "GroundTruthSource", "load_detection_file", "candidates_from_detections"]

"""Detection files are read by :mod:`ggnet_d2.formats.detections` (every file format in one place); this module keeps
the import path of the external ``file`` source."""
from ...formats.detections import DetectionIndex, load_detection_file

__all__ = ["load_detection_file", "DetectionIndex"]

"""Annotation and prediction file formats, each read in one place (numpy, scipy and msgspec only: no torch, no
detectron2), used by the dataset loaders (:mod:`ggnet_d2.data`) and the scoring (:mod:`ggnet_d2.metrics`,
:mod:`ggnet_d2.evaluation`) alike.

- :mod:`.json_file`: every JSON file, parsed by msgspec; errors name the file and position.
- :mod:`.predictions`: the prediction format (docs/interfaces.md), one msgspec schema.
- :mod:`.hico_det`: HICO-DET's PPDM/GGNet JSON, hicodet instances JSON, anno_bbox.mat and anno.mat.
- :mod:`.detections`: detection files of the external ``file`` source (COCO results or per-image JSON).
- :mod:`.vcoco`: V-COCO's vcoco_*.json, vcoco_*.ids and the COCO instances file.
- :mod:`.vocabulary`: class, verb and HOI lists of HICO-DET, COCO, V-COCO and HOI-W; HICO-DET's rare and test splits.
- :mod:`.zero_shot_splits`: the published zero-shot splits of HICO-DET (unseen HOI classes).
- :mod:`.records`: the PPDM/GGNet image record and single-value checks (boxes, sizes), for loaders and readers.
- :mod:`.ids`, :mod:`.ground_truth`: id maps, and the flat ground-truth arrays the readers return.
"""
from .ground_truth import HOIGroundTruth
from .hico_det import (hico_scoring_metadata, hicodet_header, iter_hico_bbox_mat, load_mat, mat_struct_items,
                       read_hico_bbox_mat, read_hico_det_ground_truth, read_hico_image_labels,
                       read_hicodet_ground_truth, read_list_action, read_ppdm_ground_truth)
from .detections import DetectionIndex, load_detection_file
from .ids import hoi_class_lookup, id_lookup, int_map, invert_id_map, parse_dataset_id
from .json_file import FormatError, load_json
from .predictions import (ENTRY_KEYS, PredictionArrays, decode_prediction_entries, decode_prediction_file,
                          image_positions, load_prediction_file)
from .records import RecordProblem, parse_ppdm_record
from .vcoco import read_coco_instances, read_vcoco_actions, read_vcoco_image_ids
from .vocabulary import hico_hoi_classes, hico_test_image_names

__all__ = [
    "HOIGroundTruth", "hico_scoring_metadata", "hicodet_header", "iter_hico_bbox_mat", "load_mat", "mat_struct_items",
    "read_hico_bbox_mat", "read_hico_det_ground_truth", "read_hico_image_labels", "read_hicodet_ground_truth",
    "read_list_action", "read_ppdm_ground_truth", "hoi_class_lookup", "id_lookup", "int_map", "invert_id_map",
    "parse_dataset_id", "FormatError", "load_json", "ENTRY_KEYS", "PredictionArrays", "decode_prediction_entries",
    "decode_prediction_file", "image_positions", "load_prediction_file", "read_coco_instances",
    "read_vcoco_actions", "read_vcoco_image_ids", "hico_hoi_classes", "hico_test_image_names", "RecordProblem",
    "parse_ppdm_record", "DetectionIndex", "load_detection_file",
]

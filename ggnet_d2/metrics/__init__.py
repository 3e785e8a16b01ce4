"""The HOI benchmarks' scoring on plain arrays: HICO-DET's eval_one.m matching and 11-point AP, the generic triplet
mAP, V-COCO's vsrl_eval protocol, and the prediction-file scorer shared by the evaluators and the offline CLI.

numpy only (pycocotools for V-COCO): importing it imports neither torch nor detectron2. The detectron2
``DatasetEvaluator`` wrappers are in :mod:`ggnet_d2.evaluation`.
"""
from .hoi_matching import (EXACT_TENTHS, RECALL_THRESHOLDS_11, ap_11_point, ap_all_point, inclusive_iou,
                           match_hoi_detections, per_class_ap, ranking)
from .hoi_scoring import KNOWN_OBJECT_SOURCES, HOIScorer, percent, percent_table
from .hoi_triplet_eval import evaluate_hoi_arrays, evaluate_hoi_triplets
from .offline import score_hico_det_file
from .zero_shot_subsets import seen_unseen_subsets

__all__ = [
    "EXACT_TENTHS", "RECALL_THRESHOLDS_11", "ap_11_point", "ap_all_point", "inclusive_iou", "match_hoi_detections",
    "per_class_ap", "ranking", "KNOWN_OBJECT_SOURCES", "HOIScorer", "percent", "percent_table", "evaluate_hoi_arrays",
    "evaluate_hoi_triplets", "score_hico_det_file", "seen_unseen_subsets",
]

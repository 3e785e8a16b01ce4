"""HOI evaluation as detectron2 evaluators: HICO-DET and V-COCO official protocols and a generic triplet mAP.

The scoring itself (matching, AP, the prediction-file scorer, V-COCO's protocol) is torch-free, in
:mod:`ggnet_d2.metrics`; the file formats are in :mod:`ggnet_d2.formats`. Their public names are re-exported here.
"""
from ..formats.predictions import load_prediction_file
from ..metrics.hoi_matching import ap_11_point, ap_all_point, inclusive_iou, match_hoi_detections, per_class_ap
from ..metrics.hoi_triplet_eval import evaluate_hoi_triplets
from ..metrics.vcoco_protocol import VCOCOGroundTruth, vcoco_agent_eval, vcoco_role_eval
from .build import EVALUATOR_TYPES, build_hoi_evaluator
from .hico_det_evaluation import HICODetEvaluator
from .hoi_evaluation import HOIEvaluator
from .prediction_format import (entry_to_triplets, ground_truth_from_dataset_dicts, outputs_to_prediction_entry,
                                save_prediction_file)
from .vcoco_evaluation import VCOCOEvaluator, vcoco_detections_from_entry, vcoco_verb_mapping

__all__ = [
    "build_hoi_evaluator", "EVALUATOR_TYPES", "HICODetEvaluator", "HOIEvaluator", "VCOCOEvaluator",
    "ap_11_point", "ap_all_point", "inclusive_iou", "match_hoi_detections", "per_class_ap", "evaluate_hoi_triplets",
    "entry_to_triplets", "ground_truth_from_dataset_dicts", "load_prediction_file", "outputs_to_prediction_entry",
    "save_prediction_file", "vcoco_detections_from_entry", "vcoco_verb_mapping", "VCOCOGroundTruth",
    "vcoco_agent_eval", "vcoco_role_eval",
]

"""Pick the HOI evaluator of a registered dataset from its metadata ``evaluator_type``."""
from detectron2.data import MetadataCatalog

from .hico_det_evaluation import HICODetEvaluator
from .hoi_evaluation import HOIEvaluator
from .vcoco_evaluation import VCOCOEvaluator

__all__ = ["build_hoi_evaluator", "EVALUATOR_TYPES"]

EVALUATOR_TYPES = {"hico_det": HICODetEvaluator, "vcoco": VCOCOEvaluator, "hoi": HOIEvaluator}


def build_hoi_evaluator(cfg, dataset_name, output_folder=None, allow_missing_images=None):
    """Build the evaluator named by ``MetadataCatalog.get(dataset_name).evaluator_type``.

    Args:
        cfg (CfgNode | None): a GGNet config (``TEST.HOI.ALLOW_MISSING_IMAGES``); None: not allowed.
        dataset_name (str): a registered HOI dataset.
        output_folder (str, optional): where predictions and per-class APs are written.
        allow_missing_images (bool | None): overrides the config: score images of the split without a prediction
            entry as images without detections instead of failing.

    Returns:
        DatasetEvaluator: HICODetEvaluator ("hico_det"), VCOCOEvaluator ("vcoco") or HOIEvaluator ("hoi").

    Raises:
        ValueError: naming the dataset when its evaluator_type is missing or unknown.
    """
    evaluator_type = getattr(MetadataCatalog.get(dataset_name), "evaluator_type", None)
    if evaluator_type not in EVALUATOR_TYPES:
        raise ValueError(f"dataset {dataset_name}: evaluator_type {evaluator_type!r} is not one of "
                         f"{sorted(EVALUATOR_TYPES)}")
    if allow_missing_images is None:
        allow_missing_images = cfg is not None and bool(cfg.TEST.HOI.ALLOW_MISSING_IMAGES)
    return EVALUATOR_TYPES[evaluator_type](dataset_name, output_folder, allow_missing_images=allow_missing_images)

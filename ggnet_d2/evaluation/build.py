"""Pick the HOI evaluator of a registered dataset from its metadata ``evaluator_type``."""
import difflib

from detectron2.data import DatasetCatalog, MetadataCatalog

from ..formats.zero_shot_splits import unseen_hoi_ids
from .hico_det_evaluation import HICODetEvaluator
from .hoi_evaluation import HOIEvaluator
from .vcoco_evaluation import VCOCOEvaluator

__all__ = ["build_hoi_evaluator", "EVALUATOR_TYPES"]

EVALUATOR_TYPES = {"hico_det": HICODetEvaluator, "vcoco": VCOCOEvaluator, "hoi": HOIEvaluator}


def build_hoi_evaluator(cfg, dataset_name, output_folder=None, allow_missing_images=None, drop_unknown_images=None):
    """Build the evaluator named by ``MetadataCatalog.get(dataset_name).evaluator_type``.

    Args:
        cfg (CfgNode | None): a GGNet config (``TEST.HOI.ALLOW_MISSING_IMAGES`` / ``DROP_UNKNOWN_IMAGES``,
            ``DATASETS.HOI.ZERO_SHOT_SPLIT``); None: defaults.
        dataset_name (str): a registered HOI dataset; without an ``evaluator_type`` (registered with
            ``DatasetCatalog.register`` alone) it gets the generic triplet mAP ("hoi").
        output_folder (str, optional): where predictions and per-class APs are written.
        allow_missing_images (bool | None): overrides the config: score images of the split without a prediction
            entry as images without detections instead of failing.
        drop_unknown_images (bool | None): overrides the config: leave out entries of images that are not in the
            split (with a warning) instead of failing.

    Returns:
        DatasetEvaluator: HICODetEvaluator ("hico_det"), VCOCOEvaluator ("vcoco") or HOIEvaluator ("hoi").

    With ``DATASETS.HOI.ZERO_SHOT_SPLIT`` set (HICO-DET and generic evaluators), the metrics add the split's Seen /
    Unseen subsets next to Full (``mAP_default_unseen`` ...).

    Raises:
        KeyError: naming the dataset and the closest registered names when it is not registered.
        ValueError: naming the dataset when its evaluator_type is unknown.
    """
    registered = DatasetCatalog.list()
    if dataset_name not in registered:
        close = difflib.get_close_matches(dataset_name, registered, n=5, cutoff=0.5)
        raise KeyError(f"dataset {dataset_name!r} is not registered" + (f"; close names: {', '.join(close)}"
                                                                       if close else ""))
    evaluator_type = getattr(MetadataCatalog.get(dataset_name), "evaluator_type", None) or "hoi"
    if evaluator_type not in EVALUATOR_TYPES:
        raise ValueError(f"dataset {dataset_name}: evaluator_type {evaluator_type!r} is not one of "
                         f"{sorted(EVALUATOR_TYPES)}")
    if allow_missing_images is None:
        allow_missing_images = cfg is not None and bool(cfg.TEST.HOI.ALLOW_MISSING_IMAGES)
    if drop_unknown_images is None:
        drop_unknown_images = cfg is not None and bool(cfg.TEST.HOI.DROP_UNKNOWN_IMAGES)
    kwargs = {}
    split = cfg.DATASETS.HOI.ZERO_SHOT_SPLIT if cfg is not None else ""
    if split and evaluator_type != "vcoco":  # Full / Seen / Unseen of the zero-shot split (issue 23)
        hoi_classes = MetadataCatalog.get(dataset_name).hoi_classes
        kwargs["unseen_hoi_ids"] = unseen_hoi_ids(split, cfg.DATASETS.HOI.ZERO_SHOT_UNSEEN, len(hoi_classes))
    return EVALUATOR_TYPES[evaluator_type](dataset_name, output_folder, allow_missing_images=allow_missing_images,
                                           drop_unknown_images=drop_unknown_images, **kwargs)

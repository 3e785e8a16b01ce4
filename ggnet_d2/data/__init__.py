"""GGNet's data: HOI dataset loading/registration, the HOIDatasetMapper and its dense targets.

Importing this package registers the built-in datasets (hico_det_train/test, vcoco_trainval/test) lazily under
``$DETECTRON2_DATASETS`` (default ``datasets/``), and the generated synthetic sets: synth_hoi_train/test (the
quickstart's) and synth_hoi_compositional_train/test (the compositional zero-shot check's).
"""
from .datasets import (
    BadRecordError,
    BadRecordPolicy,
    configure_hoi_datasets,
    load_hico_det_instances,
    load_hoi_json,
    register_all_builtin_hoi,
    register_hoi_json,
)
from .dataset_mapper import HOIDatasetMapper
from .datasets.synthetic_compositional import register_synthetic_compositional_hoi
from .datasets.synthetic_hoi import register_synthetic_hoi
from .transforms import build_hoi_test_augmentation, build_hoi_train_augmentation

__all__ = [
    "BadRecordError", "BadRecordPolicy", "configure_hoi_datasets", "load_hico_det_instances", "load_hoi_json",
    "register_hoi_json",
    "HOIDatasetMapper", "build_hoi_test_augmentation", "build_hoi_train_augmentation",
]

register_all_builtin_hoi()
register_synthetic_hoi()
register_synthetic_compositional_hoi()

"""HOI dataset loaders and registration (docs/interfaces.md: dataset dicts and metadata)."""
from .bad_records import BadRecordError, BadRecordPolicy, configure_hoi_datasets
from .builtin import register_all_builtin_hoi
from .custom import register_custom_hoi_datasets
from .hico_det import hico_official_hoi_classes, load_hico_det_instances
from .hoi_json import load_hoi_json
from .register_hoi import register_hoi_json

__all__ = [
    "BadRecordError", "BadRecordPolicy", "configure_hoi_datasets", "register_all_builtin_hoi",
    "register_custom_hoi_datasets", "hico_official_hoi_classes", "load_hico_det_instances", "load_hoi_json",
    "register_hoi_json",
]

"""HOI dataset loaders and registration (docs/interfaces.md: dataset dicts and metadata)."""
from .bad_records import BadRecordError, configure_hoi_datasets, get_bad_record_policy, set_bad_record_policy
from .builtin import register_all_builtin_hoi
from .hico_det import hico_official_hoi_classes, load_hico_det_instances
from .hoi_json import load_hoi_json
from .register_hoi import register_hoi_json

__all__ = [
    "BadRecordError", "configure_hoi_datasets", "get_bad_record_policy", "set_bad_record_policy",
    "register_all_builtin_hoi", "hico_official_hoi_classes", "load_hico_det_instances", "load_hoi_json",
    "register_hoi_json",
]

"""Users' own PPDM/GGNet-style HOI datasets named in the config (``DATASETS.HOI.CUSTOM``), registered per process."""
import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from .register_hoi import register_hoi_json

__all__ = ["register_custom_hoi_datasets"]


def register_custom_hoi_datasets(cfg):
    """Register every ``(name, json_file, image_root)`` entry of ``cfg.DATASETS.HOI.CUSTOM`` with
    :func:`register_hoi_json` (nothing is read now).

    ``setup_cfg`` calls it in every process (training workers start from a fresh interpreter, so a registration made
    only in the launching process is missing there). An entry already registered with the same files is left alone.

    Args:
        cfg (CfgNode): a GGNet config.

    Returns:
        list[str]: the names registered by this call.

    Raises:
        ValueError: an entry that is not three strings, or a name already registered for other files (or by
            another loader).
    """
    added = []
    for entry in cfg.DATASETS.HOI.CUSTOM:
        if not (isinstance(entry, (list, tuple)) and len(entry) == 3 and all(isinstance(x, str) for x in entry)):
            raise ValueError(f"DATASETS.HOI.CUSTOM entries are (name, json_file, image_root) strings, got {entry!r}")
        name, json_file, image_root = entry
        json_file, image_root = os.path.abspath(json_file), os.path.abspath(image_root)
        if name in DatasetCatalog.list():
            meta = MetadataCatalog.get(name)
            if (meta.get("json_file", None), meta.get("image_root", None)) != (json_file, image_root):
                raise ValueError(f"DATASETS.HOI.CUSTOM: dataset {name!r} is already registered "
                                 f"(json_file {meta.get('json_file', None)!r}); choose another name")
            continue
        register_hoi_json(name, json_file, image_root)
        added.append(name)
    return added

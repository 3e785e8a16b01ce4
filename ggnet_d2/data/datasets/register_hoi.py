"""Register a PPDM/GGNet-style HOI JSON (a user's own dataset or a built-in) with detectron2's catalogs, lazily."""
from detectron2.data import DatasetCatalog, MetadataCatalog

from .hoi_json import _load, load_hoi_json
from .lazy_metadata import register_lazy_metadata

__all__ = ["register_hoi_json", "METADATA_KEYS"]

# Every key of docs/interfaces.md's metadata table that a dataset has (V-COCO's official files are added by builtin).
METADATA_KEYS = (
    "thing_classes", "verb_classes", "person_class_id", "thing_dataset_id_to_contiguous_id",
    "verb_dataset_id_to_contiguous_id", "valid_verb_object", "hoi_classes", "rare_hoi_ids", "non_rare_hoi_ids",
    "evaluator_type", "json_file", "image_root",
)


def register_hoi_json(name, json_file, image_root, metadata=None, resolve=None):
    """Register ``name`` in DatasetCatalog (loads with :func:`load_hoi_json` on first use) and MetadataCatalog.

    Nothing is read at registration. Metadata keys given in ``metadata`` are set at once (``evaluator_type``
    defaults to "hoi"); the others of docs/interfaces.md (class lists and id maps when not given, ``valid_verb_object``
    and ``hoi_classes`` from the annotations, rare = < 10 instances in the file) are computed when first read.

    Args:
        name (str): dataset name, e.g. "hoiw_demo".
        json_file (str): PPDM/GGNet-style JSON.
        image_root (str): folder of the images.
        metadata (dict | None): see :func:`load_hoi_json`; any extra keys (e.g. evaluator files) are stored as given.
        resolve (callable | None): returns the lazy metadata dict; default loads ``json_file`` (built-ins pass one
            that reads their correspondence / training files instead).

    Raises:
        AssertionError: (detectron2) if ``name`` is already registered.
    """
    metadata = dict(metadata or {})

    def load():
        given = dict(metadata)
        if resolve is not None:
            # Built-ins define the correspondence and triplet order elsewhere (corre_*.npy, official HOI list).
            meta = MetadataCatalog.get(name)
            given["valid_verb_object"] = meta.valid_verb_object
            given["hoi_classes"] = meta.hoi_classes
        return load_hoi_json(json_file, image_root, name, given)

    DatasetCatalog.register(name, load)
    static = {"evaluator_type": "hoi", "json_file": json_file, "image_root": image_root}
    static.update(metadata)

    def resolve_from_file():
        return _load(json_file, image_root, name, metadata)[1]

    register_lazy_metadata(name, resolve or resolve_from_file, METADATA_KEYS, **static)

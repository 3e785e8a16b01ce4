"""Register a PPDM/GGNet-style HOI JSON (a user's own dataset or a built-in) with detectron2's catalogs, lazily."""
import functools

from detectron2.data import DatasetCatalog, MetadataCatalog

from .bad_records import PolicyLoader, registered_policy
from .hoi_json import _load, load_hoi_json
from .lazy_metadata import register_lazy_metadata

__all__ = ["register_hoi_json", "METADATA_KEYS"]

# Every key of docs/interfaces.md's metadata table that a dataset has (V-COCO's official files are added by builtin).
METADATA_KEYS = (
    "thing_classes", "verb_classes", "person_class_id", "thing_dataset_id_to_contiguous_id",
    "verb_dataset_id_to_contiguous_id", "valid_verb_object", "hoi_classes", "rare_hoi_ids", "non_rare_hoi_ids",
    "evaluator_type", "json_file", "image_root",
)


def _load_registered(name, json_file, image_root, metadata, lazy_resolve, policy, log):
    given = dict(metadata)
    if lazy_resolve:
        # Built-ins define the correspondence and triplet order elsewhere (official HOI list, corre_*.npy).
        meta = MetadataCatalog.get(name)
        given["valid_verb_object"] = meta.valid_verb_object
        given["hoi_classes"] = meta.hoi_classes
    return load_hoi_json(json_file, image_root, name, given, policy=policy, log=log)


def register_hoi_json(name, json_file, image_root, metadata=None, resolve=None, policy=None):
    """Register ``name`` in DatasetCatalog (loads with :func:`load_hoi_json` on first use) and MetadataCatalog.

    Nothing is read at registration. Metadata keys given in ``metadata`` are set at once (``evaluator_type``
    defaults to "hoi"; ``person_class_id`` is the position of "person" in a given ``thing_classes``); the others of
    docs/interfaces.md (class lists and id maps when not given, ``valid_verb_object`` and ``hoi_classes`` from the
    annotations, rare = < 10 instances in the file) are computed when first read.

    The DatasetCatalog entry is a :class:`~ggnet_d2.data.datasets.bad_records.PolicyLoader`: ``setup_cfg`` /
    ``configure_hoi_datasets(cfg)`` re-register it with the bad-record policy of ``cfg.DATASETS.HOI``.

    Args:
        name (str): dataset name, e.g. "hoiw_demo".
        json_file (str): PPDM/GGNet-style JSON.
        image_root (str): folder of the images.
        metadata (dict | None): see :func:`load_hoi_json`; any extra keys (e.g. evaluator files) are stored as given.
        resolve (callable | None): returns the lazy metadata dict; default loads ``json_file`` (built-ins pass one
            that reads their training files instead).
        policy (BadRecordPolicy | None): initial bad-record policy (default ``BadRecordPolicy()``).

    Raises:
        AssertionError: (detectron2) if ``name`` is already registered.
    """
    metadata = dict(metadata or {})
    classes = metadata.get("thing_classes")
    if classes is not None and "person_class_id" not in metadata and "person" in classes:
        metadata["person_class_id"] = list(classes).index("person")

    DatasetCatalog.register(name, PolicyLoader(functools.partial(
        _load_registered, name, json_file, image_root, metadata, resolve is not None), policy))
    static = {"evaluator_type": "hoi", "json_file": json_file, "image_root": image_root}
    static.update(metadata)

    def resolve_from_file():
        # The dataset load logs the skip summary and verb histogram; resolving metadata alone stays quiet.
        return _load(json_file, image_root, name, metadata, registered_policy(name), log=False)[1]

    register_lazy_metadata(name, resolve or resolve_from_file, METADATA_KEYS, **static)
